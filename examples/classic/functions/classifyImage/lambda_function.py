import base64
import json

import boto3

# The endpoint deployed from the training notebook
ENDPOINT = "image-classification-2023-01-18-19-42-56-366"

runtime = boto3.client("runtime.sagemaker")


def lambda_handler(event, context):
    """Ask the endpoint what the image is: one probability per class."""

    # Decode the image data
    image = base64.b64decode(event["body"]["image_data"])

    # Make a prediction
    response = runtime.invoke_endpoint(EndpointName=ENDPOINT, ContentType="image/png", Body=image)

    # The endpoint answers a JSON list of probabilities
    inferences = json.loads(response["Body"].read().decode("utf-8"))

    # Return the data back to the Step Function
    event["body"]["inferences"] = inferences
    return {
        "statusCode": 200,
        "body": event["body"],
    }
