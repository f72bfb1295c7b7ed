import base64
import json

# BUG (a module that is not packaged): the SageMaker Python SDK is not in the Lambda runtime, and nothing
# ships it with this function: Runtime.ImportModuleError, "No module named 'sagemaker'".
# Fix: boto3.client("runtime.sagemaker").invoke_endpoint(...), as in examples/classic, or package the SDK.
from sagemaker.predictor import Predictor
from sagemaker.serializers import IdentitySerializer

# The endpoint deployed from the training notebook
ENDPOINT = "image-classification-2023-01-18-19-42-56-366"


def lambda_handler(event, context):
    """Ask the endpoint what the image is: one probability per class."""

    # Decode the image data
    image = base64.b64decode(event["body"]["image_data"])

    # Make a prediction
    predictor = Predictor(ENDPOINT)
    predictor.serializer = IdentitySerializer("image/png")
    inferences = predictor.predict(image)

    # Return the data back to the Step Function
    event["body"]["inferences"] = json.loads(inferences.decode("utf-8"))
    return {
        "statusCode": 200,
        "body": event["body"],
    }
