import base64

import boto3

s3 = boto3.client("s3")


def lambda_handler(event, context):
    """Serialize the image named by the execution input: s3://{s3_bucket}/{s3_key}."""

    # The Step Functions input
    key = event["s3_key"]
    bucket = event["s3_bucket"]

    # Download the image from S3 to /tmp/image.png
    s3.download_file(bucket, key, "/tmp/image.png")

    # Read it back and base64-encode it
    with open("/tmp/image.png", "rb") as f:
        image_data = base64.b64encode(f.read())

    # Hand it to the next step
    # BUG (returned bytes): b64encode() gives bytes, which Lambda cannot turn into JSON:
    # Runtime.MarshalError. Fix: image_data.decode("utf-8").
    print("Event:", event.keys())
    return {
        "statusCode": 200,
        "body": {
            "image_data": image_data,
            "s3_bucket": bucket,
            "s3_key": key,
            "inferences": [],
        },
    }
