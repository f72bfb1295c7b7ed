"""Finding the image an execution was about: only bytes that are a picture by their magic number count."""

from __future__ import annotations

import base64

from scones.gateway.console.images import find_image_data, image_type, inline_image, s3_reference

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16


def test_pictures_are_known_by_their_bytes_not_their_names() -> None:
    assert image_type(PNG) == "image/png"
    assert image_type(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert image_type(b"RIFF\0\0\0\0WEBPVP8 ") == "image/webp"
    assert image_type(b"<svg onload=alert(1)>") is None  # SVG can hold script: never shown as an image


def test_image_data_is_found_in_a_states_input() -> None:
    encoded = base64.b64encode(PNG).decode()
    found = find_image_data({"statusCode": 200, "body": {"image_data": encoded, "s3_key": "k"}})
    assert found == {"type": "image/png", "base64": encoded}
    assert find_image_data({"body": {"image_data": base64.b64encode(b"<script>").decode()}}) is None
    assert inline_image("not base64 !") is None


def test_an_s3_reference_needs_both_fields() -> None:
    assert s3_reference({"s3_bucket": "scones", "s3_key": "a.png"}) == ("scones", "a.png")
    assert s3_reference({"s3_bucket": "scones"}) is None
    assert s3_reference(["s3_bucket"]) is None
