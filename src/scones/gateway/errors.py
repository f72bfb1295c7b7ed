"""The answers the gateway gives itself, before or instead of a service: in that service's error shape.

A refused signature, a service not served here, a service that failed: the client is an SDK that
parses errors by its service's protocol, so S3 gets S3's XML ``<Error>`` and the JSON services
(Step Functions, Lambda, SageMaker Runtime, the console) a ``__type``/``message`` body with the code
also in ``x-amzn-ErrorType``, which botocore's rest-json parser reads first.
"""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from scones.gateway.routing import Service


def error_response(service: Service, code: str, message: str, status: int) -> Response:
    """An error answer ``service``'s clients parse as ``code`` with ``message``."""
    from scones.gateway.protocols.json_protocol import request_id

    request = request_id()
    if service is Service.S3:
        from scones.gateway.protocols.rest_xml import error_document

        return Response(error_document(code, message, request), status_code=status, media_type="application/xml",
                        headers={"x-amz-request-id": request})
    return JSONResponse({"__type": code, "message": message}, status_code=status,
                        headers={"x-amzn-ErrorType": code, "x-amzn-RequestId": request})
