"""The S3 API over the local store: buckets are folders of ``SCONES_HOME/store``, objects their files."""

from scones.gateway.s3.service import S3Service

__all__ = ["S3Service"]
