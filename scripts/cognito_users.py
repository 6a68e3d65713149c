"""Makes a Cognito user pool, an app client (USER_PASSWORD_AUTH, refresh tokens) and users with
fresh random passwords on an emulator (moto), and prints them as JSON:
{"pool_id": ..., "client_id": ..., "users": {"name": "password", ...}}.
A NAME ending in `~` (the `~` is not part of it) gets a temporary password, as a user an
administrator creates does: the first sign-in must choose a new one (NEW_PASSWORD_REQUIRED).

Usage: python cognito_users.py ENDPOINT NAME...   (`AUTH=cognito make run`, the browser test)
"""
import json
import secrets
import sys

import boto3


def main() -> None:
    endpoint, names = sys.argv[1], sys.argv[2:] or ["demo"]
    # An emulator takes any credentials; these keep boto3 from looking for real ones.
    idp = boto3.client(
        "cognito-idp",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    pool = idp.create_user_pool(PoolName=f"image-api-{secrets.token_hex(4)}")["UserPool"]["Id"]
    client = idp.create_user_pool_client(
        UserPoolId=pool,
        ClientName="image-api",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    users = {}
    for name in names:
        password = f"Pw-{secrets.token_urlsafe(12)}-9a"
        if name.endswith("~"):
            name = name[:-1]
            idp.admin_create_user(
                UserPoolId=pool, Username=name, TemporaryPassword=password, MessageAction="SUPPRESS"
            )
        else:
            idp.admin_create_user(UserPoolId=pool, Username=name, MessageAction="SUPPRESS")
            idp.admin_set_user_password(UserPoolId=pool, Username=name, Password=password, Permanent=True)
        users[name] = password
    print(json.dumps({"pool_id": pool, "client_id": client, "users": users}))


if __name__ == "__main__":
    main()
