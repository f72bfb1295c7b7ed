THRESHOLD = 0.93


def lambda_handler(event, context):
    """Let the image through only when the model is confident enough."""

    # Grab the inferences from the event
    inferences = event["body"]["inferences"]

    # Does any inference meet the threshold?
    meets_threshold = max(inferences) >= THRESHOLD

    # If it does, pass the data on; else end the execution with an error
    if not meets_threshold:
        raise Exception("THRESHOLD_CONFIDENCE_NOT_MET")

    return {
        "statusCode": 200,
        "body": event["body"],
    }
