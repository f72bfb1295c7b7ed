THRESHOLD = 0.93


def lambda_handler(event, context):
    """Let the image through only when the model is confident enough."""

    # BUG (swallowed an error): the error is caught and returned as a statusCode 500, so the
    # state succeeds, the execution goes on, and the low-confidence image is kept.
    # Fix: let the exception propagate, and Catch it in the state machine.
    try:
        inferences = event["body"]["inferences"]
        if max(inferences) < THRESHOLD:
            raise Exception("THRESHOLD_CONFIDENCE_NOT_MET")
        return {"statusCode": 200, "body": event["body"]}
    except Exception as e:
        return {"statusCode": 500, "body": str(e)}
