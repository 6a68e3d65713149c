#!/usr/bin/env python3
"""moto_server for the IAM test, with one fix to how moto checks signatures when it enforces
IAM: it re-signs a request with its query string decoded, so any signed request whose query
holds a `/` (ListObjectsV2 with `prefix=thumbnails/ID/`) fails with SignatureDoesNotMatch,
even from botocore itself (seen with moto 5.2.1). The fix re-encodes the query as SigV4 does
before moto re-signs it.

And moto cannot authorise a presigned request (it reads the signer from an `Authorization`
header, which such a request has not, and answers 500): here its action is authorised against
the policy of the key named in `X-Amz-Credential`, as S3 does, without checking the signature
(moto never checks a presigned URL's signature, expiry or signed headers).

And moto authorises a DeleteObjects batch as s3:DeleteObject on the bucket itself, which a
policy granting it on `images/*` and `thumbnails/*` lacks; S3 authorises it on each key. Here
each key of the batch is authorised, as S3 does.

Usage: moto_iam_server.py [moto_server arguments]
"""
import sys
from urllib.parse import parse_qs, parse_qsl, quote, urlparse

from moto import settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.iam import access_control
from moto.s3.responses import S3Response
from moto.server import main
import xmltodict

original = access_control.IAMRequestBase._create_aws_request


def _create_aws_request(self):
    path, _, query = self._path.partition("?")
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        self._path = path + "?" + "&".join(
            f"{quote(name, safe='-_.~')}={quote(value, safe='-_.~')}" for name, value in pairs
        )
    return original(self)


access_control.IAMRequestBase._create_aws_request = _create_aws_request

authorize = ActionAuthenticatorMixin._authenticate_and_authorize_action


def _authenticate_and_authorize_action(self, iam_request_cls, resource="*"):
    enforcing = ActionAuthenticatorMixin.request_count >= settings.INITIAL_NO_AUTH_ACTION_COUNT
    parsed = urlparse(self.uri)
    credential = parse_qs(parsed.query).get("X-Amz-Credential", [None])[0]
    if not enforcing or "Authorization" in self.headers or not credential:
        return authorize(self, iam_request_cls, resource)
    headers = dict(self.headers)
    headers["Authorization"] = f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=-"
    iam_request_cls(
        account_id=self.current_account,
        method=self.method,
        path=parsed.path + "?" + parsed.query,
        data=self.data,
        body=self.raw_body,
        headers=headers,
        action=self._get_action(),
    ).check_action_permitted(resource)


ActionAuthenticatorMixin._authenticate_and_authorize_action = _authenticate_and_authorize_action

authorize_s3 = S3Response._authenticate_and_authorize_s3_action


def _authenticate_and_authorize_s3_action(self, bucket_name=None, key_name=None):
    batch = key_name is None and bucket_name and self.data.get("Action") == "DeleteObject"
    if not (batch and self.is_delete_keys()):
        return authorize_s3(self, bucket_name=bucket_name, key_name=key_name)
    objects = xmltodict.parse(self.body)["Delete"].get("Object", [])
    for item in objects if isinstance(objects, list) else [objects]:
        authorize_s3(self, bucket_name=bucket_name, key_name=item["Key"])


S3Response._authenticate_and_authorize_s3_action = _authenticate_and_authorize_s3_action

if __name__ == "__main__":
    sys.exit(main())
