"""The boto3 backend: S3, IAM, STS and SQS on AWS, MinIO or any S3-compatible endpoint.

This is the only module that imports boto3. Client errors are translated into
the kit's errors so nothing above this module knows botocore's shapes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from storage_kit.backend.base import (
    AccessKey,
    Credentials,
    ObjectInfo,
    StoreAccessDenied,
    StoreError,
    StoreNotFound,
    VersionInfo,
)

# botocore logs whole responses at DEBUG, including the secret keys IAM and STS return when
# the kit mints credentials: never let it log below INFO, whatever the logging configuration.
for _name in ("botocore", "boto3"):
    _logger = logging.getLogger(_name)
    if _logger.level < logging.INFO:  # NOTSET included: it would inherit DEBUG from the root
        _logger.setLevel(logging.INFO)

_NOT_FOUND = {"NoSuchKey", "NoSuchBucket", "NoSuchVersion", "NoSuchEntity", "404", "NotFound"}
_DENIED = {"AccessDenied", "InvalidAccessKeyId", "InvalidClientTokenId", "SignatureDoesNotMatch", "403"}
_PART_SIZE = 64 * 1024 * 1024


@contextmanager
def _translated(operation: str) -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        details = {"operation": operation, "store_code": code}
        if code in _NOT_FOUND:
            raise StoreNotFound(f"{operation}: not found ({code}).", details=details) from exc
        if code in _DENIED:
            raise StoreAccessDenied(f"{operation}: access denied ({code}).", details=details) from exc
        raise StoreError(f"{operation} failed ({code}).", details=details) from exc
    except BotoCoreError as exc:
        raise StoreError(
            f"{operation} failed: the store is unreachable ({type(exc).__name__}).",
            details={"operation": operation, "store_code": type(exc).__name__},
        ) from exc


def _etag(value: str | None) -> str:
    return (value or "").strip('"')


class Boto3Store:
    """`ObjectStore` over boto3 clients built from explicit endpoints and keys."""

    def __init__(
        self,
        *,
        endpoint_url: str | None,
        region: str,
        credentials: Credentials | None,
        iam_endpoint_url: str | None = None,
        sts_endpoint_url: str | None = None,
        multipart_threshold: int = _PART_SIZE,
        list_page_size: int = 1000,
        read_timeout_s: float = 30.0,
    ) -> None:
        self._session = boto3.session.Session(
            aws_access_key_id=credentials.access_key_id if credentials else None,
            aws_secret_access_key=credentials.secret_access_key if credentials else None,
            aws_session_token=(credentials.session_token or None) if credentials else None,
            region_name=region,
        )
        config = Config(
            s3={"addressing_style": "path"},
            signature_version="s3v4",
            retries={"max_attempts": 2, "mode": "standard"},
            connect_timeout=3,
            read_timeout=read_timeout_s,
            max_pool_connections=32,
        )
        self._endpoint = endpoint_url or None
        self.s3: Any = self._session.client("s3", endpoint_url=self._endpoint, config=config)
        self._iam_endpoint = iam_endpoint_url or self._endpoint
        self._sts_endpoint = sts_endpoint_url or self._endpoint
        self._config = config
        self._clients: dict[str, Any] = {}
        self._multipart_threshold = multipart_threshold
        self._list_page_size = list_page_size

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            endpoint = {"iam": self._iam_endpoint, "sts": self._sts_endpoint}.get(service, self._endpoint)
            self._clients[service] = self._session.client(service, endpoint_url=endpoint, config=self._config)
        return self._clients[service]

    # buckets -----------------------------------------------------------------------------
    def bucket_create(self, *, bucket: str, tags: dict[str, str]) -> None:
        with _translated("CreateBucket"):
            region = self._session.region_name
            kwargs: dict[str, Any] = {"Bucket": bucket}
            if region and region != "us-east-1":
                kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
            self.s3.create_bucket(**kwargs)
            if tags:
                self.s3.put_bucket_tagging(
                    Bucket=bucket, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}
                )

    def bucket_delete(self, *, bucket: str) -> None:
        with _translated("DeleteBucket"):
            self.s3.delete_bucket(Bucket=bucket)

    def bucket_exists(self, *, bucket: str) -> bool:
        try:
            with _translated("HeadBucket"):
                self.s3.head_bucket(Bucket=bucket)
        except StoreNotFound:
            return False
        return True

    def bucket_names(self) -> list[str]:
        with _translated("ListBuckets"):
            return [b["Name"] for b in self.s3.list_buckets().get("Buckets", [])]

    def bucket_tags(self, *, bucket: str) -> dict[str, str]:
        try:
            with _translated("GetBucketTagging"):
                tagset = self.s3.get_bucket_tagging(Bucket=bucket).get("TagSet", [])
        except StoreNotFound:
            return {}
        except StoreError as exc:
            if exc.details.get("store_code") == "NoSuchTagSet":
                return {}
            raise
        return {t["Key"]: t["Value"] for t in tagset}

    def bucket_versioning_enabled(self, *, bucket: str) -> bool:
        with _translated("GetBucketVersioning"):
            return bool(self.s3.get_bucket_versioning(Bucket=bucket).get("Status") == "Enabled")

    def bucket_enable_versioning(self, *, bucket: str) -> None:
        with _translated("PutBucketVersioning"):
            self.s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})

    def bucket_set_expiry(self, *, bucket: str, days: int) -> None:
        """Expire current objects only: noncurrent versions (which checkpoints pin) are never touched."""
        rule = {"ID": "storage-kit-ttl", "Status": "Enabled", "Filter": {"Prefix": ""}}
        rule["Expiration"] = {"Days": days}
        with _translated("PutBucketLifecycleConfiguration"):
            self.s3.put_bucket_lifecycle_configuration(
                Bucket=bucket, LifecycleConfiguration={"Rules": [rule]}
            )

    def bucket_notify_queue(self, *, bucket: str, queue_arn: str, prefix: str) -> None:
        config: dict[str, Any] = {"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}
        if prefix:
            config["Filter"] = {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}}
        with _translated("PutBucketNotificationConfiguration"):
            self.s3.put_bucket_notification_configuration(
                Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [config]}
            )

    # objects -----------------------------------------------------------------------------
    def object_put(
        self,
        *,
        bucket: str,
        key: str,
        body: bytes,
        content_type: str = "",
        metadata: dict[str, str] | None = None,
    ) -> ObjectInfo:
        kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key, "Body": body}
        if content_type:
            kwargs["ContentType"] = content_type
        if metadata:
            kwargs["Metadata"] = metadata
        with _translated("PutObject"):
            response = self.s3.put_object(**kwargs)
        return ObjectInfo(
            key=key,
            size=len(body),
            etag=_etag(response.get("ETag")),
            version_id=response.get("VersionId") or "",
            content_type=content_type,
        )

    def object_get(self, *, bucket: str, key: str, version_id: str = "") -> tuple[bytes, ObjectInfo]:
        kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if version_id:
            kwargs["VersionId"] = version_id
        with _translated("GetObject"):
            response = self.s3.get_object(**kwargs)
            body = response["Body"].read()
        return body, self._info(key, response)

    def object_head(self, *, bucket: str, key: str, version_id: str = "") -> ObjectInfo:
        kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if version_id:
            kwargs["VersionId"] = version_id
        with _translated("HeadObject"):
            return self._info(key, self.s3.head_object(**kwargs))

    @staticmethod
    def _info(key: str, response: dict[str, Any]) -> ObjectInfo:
        return ObjectInfo(
            key=key,
            size=int(response.get("ContentLength", 0)),
            etag=_etag(response.get("ETag")),
            version_id=response.get("VersionId") or "",
            last_modified=response.get("LastModified"),
            content_type=response.get("ContentType", ""),
            metadata=dict(response.get("Metadata", {})),
        )

    def object_delete(self, *, bucket: str, key: str) -> None:
        with _translated("DeleteObject"):
            self.s3.delete_object(Bucket=bucket, Key=key)

    def object_list(self, *, bucket: str, prefix: str) -> Iterator[ObjectInfo]:
        with _translated("ListObjectsV2"):
            for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield ObjectInfo(
                        key=item["Key"],
                        size=int(item["Size"]),
                        etag=_etag(item.get("ETag")),
                        last_modified=item.get("LastModified"),
                    )

    def object_copy_version(
        self, *, src_bucket: str, key: str, version_id: str, size: int, dst_bucket: str, dst_key: str
    ) -> None:
        source = {"Bucket": src_bucket, "Key": key, "VersionId": version_id}
        with _translated("CopyObject"):
            if size < self._multipart_threshold:
                self.s3.copy_object(Bucket=dst_bucket, Key=dst_key, CopySource=source)
                return
            upload = self.s3.create_multipart_upload(Bucket=dst_bucket, Key=dst_key)
            parts = []
            try:
                for number, start in enumerate(range(0, size, _PART_SIZE), start=1):
                    end = min(start + _PART_SIZE, size) - 1
                    part = self.s3.upload_part_copy(
                        Bucket=dst_bucket,
                        Key=dst_key,
                        UploadId=upload["UploadId"],
                        PartNumber=number,
                        CopySource=source,
                        CopySourceRange=f"bytes={start}-{end}",
                    )
                    parts.append({"PartNumber": number, "ETag": part["CopyPartResult"]["ETag"]})
                self.s3.complete_multipart_upload(
                    Bucket=dst_bucket,
                    Key=dst_key,
                    UploadId=upload["UploadId"],
                    MultipartUpload={"Parts": parts},
                )
            except Exception:
                self.s3.abort_multipart_upload(Bucket=dst_bucket, Key=dst_key, UploadId=upload["UploadId"])
                raise

    def object_presign_get(self, *, bucket: str, key: str, version_id: str = "", expires_s: int) -> str:
        params: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if version_id:
            params["VersionId"] = version_id
        with _translated("PresignGetObject"):
            return str(self.s3.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_s))

    def versions(self, *, bucket: str, prefix: str) -> Iterator[VersionInfo]:
        with _translated("ListObjectVersions"):
            pages = self.s3.get_paginator("list_object_versions").paginate(
                Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": self._list_page_size}
            )
            for page in pages:
                for item in page.get("Versions", []):
                    yield VersionInfo(
                        key=item["Key"],
                        version_id=item.get("VersionId") or "null",
                        etag=_etag(item.get("ETag")),
                        size=int(item.get("Size", 0)),
                        is_latest=bool(item.get("IsLatest")),
                        is_delete_marker=False,
                    )
                for item in page.get("DeleteMarkers", []):
                    yield VersionInfo(
                        key=item["Key"],
                        version_id=item.get("VersionId") or "null",
                        etag="",
                        size=0,
                        is_latest=bool(item.get("IsLatest")),
                        is_delete_marker=True,
                    )

    def versions_delete(self, *, bucket: str, versions: Iterable[tuple[str, str]]) -> list[str]:
        """Delete (key, version) pairs in batches of 1000; return one message per failure."""
        errors: list[str] = []
        batch: list[dict[str, str]] = []

        def flush() -> None:
            with _translated("DeleteObjects"):
                response = self.s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
            errors.extend(f"{e.get('Key')}: {e.get('Code')}" for e in response.get("Errors", []))
            batch.clear()

        for key, version_id in versions:
            batch.append({"Key": key, "VersionId": version_id})
            if len(batch) == 1000:
                flush()
        if batch:
            flush()
        return errors

    # credentials ---------------------------------------------------------------------------
    def iam_user_create(self, *, name: str, path: str, policy: dict[str, Any]) -> AccessKey:
        iam = self._client("iam")
        with _translated("CreateUser"):
            iam.create_user(UserName=name, Path=path)
        try:
            with _translated("PutUserPolicy"):
                iam.put_user_policy(
                    UserName=name, PolicyName="storage-kit-scope", PolicyDocument=json.dumps(policy)
                )
            with _translated("CreateAccessKey"):
                key = iam.create_access_key(UserName=name)["AccessKey"]
        except (StoreError, StoreNotFound, StoreAccessDenied):
            # The user exists without its key: remove it so nothing is left unaccounted for.
            self.iam_user_delete(name=name)
            raise
        return AccessKey(
            principal=name,
            credentials=Credentials(
                access_key_id=key["AccessKeyId"], secret_access_key=key["SecretAccessKey"]
            ),
        )

    def iam_user_delete(self, *, name: str) -> None:
        iam = self._client("iam")
        with _translated("ListAccessKeys"):
            keys = iam.list_access_keys(UserName=name).get("AccessKeyMetadata", [])
        for key in keys:
            with _translated("DeleteAccessKey"):
                iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
        with _translated("ListUserPolicies"):
            policies = iam.list_user_policies(UserName=name).get("PolicyNames", [])
        for policy_name in policies:
            with _translated("DeleteUserPolicy"):
                iam.delete_user_policy(UserName=name, PolicyName=policy_name)
        with _translated("DeleteUser"):
            iam.delete_user(UserName=name)

    def sts_assume_role(
        self, *, role_arn: str, session_name: str, policy: dict[str, Any], duration_s: int
    ) -> AccessKey:
        with _translated("AssumeRole"):
            response = self._client("sts").assume_role(
                RoleArn=role_arn,
                RoleSessionName=session_name,
                Policy=json.dumps(policy),
                DurationSeconds=duration_s,
            )
        creds = response["Credentials"]
        return AccessKey(
            principal=session_name,
            credentials=Credentials(
                access_key_id=creds["AccessKeyId"],
                secret_access_key=creds["SecretAccessKey"],
                session_token=creds["SessionToken"],
                expires_at=creds.get("Expiration"),
            ),
        )

    # queues ----------------------------------------------------------------------------------
    def queue_create(self, *, name: str) -> tuple[str, str]:
        sqs = self._client("sqs")
        with _translated("CreateQueue"):
            url = sqs.create_queue(QueueName=name)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
        return str(url), str(arn)

    def queue_receive(self, *, queue_url: str, max_messages: int = 10) -> list[tuple[str, str]]:
        with _translated("ReceiveMessage"):
            response = self._client("sqs").receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=max_messages, WaitTimeSeconds=0
            )
        return [(m["ReceiptHandle"], m["Body"]) for m in response.get("Messages", [])]

    def queue_ack(self, *, queue_url: str, receipt: str) -> None:
        with _translated("DeleteMessage"):
            self._client("sqs").delete_message(QueueUrl=queue_url, ReceiptHandle=receipt)

    def queue_delete(self, *, queue_url: str) -> None:
        with _translated("DeleteQueue"):
            self._client("sqs").delete_queue(QueueUrl=queue_url)
