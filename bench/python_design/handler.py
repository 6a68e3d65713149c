"""The Python/boto3 design the service is judged against, as a reference for `make bench`: one Python Lambda handler on
boto3 that uploads (JSON with base64 content), lists (a filtered Scan), gets and deletes images.
It is written the way that design is usually written, clients created once at import, and is
not part of the product: it exists so the benchmark can show image-api beside it, measured
the same way on the same emulator.
"""
import base64
import binascii
import json
import os
import uuid
from datetime import datetime, timezone

import boto3
from boto3.dynamodb.conditions import Attr

ENDPOINT = os.environ.get("LOCALSTACK_ENDPOINT")
REGION = os.environ.get("AWS_REGION", "us-east-1")
BUCKET = os.environ["BUCKET_NAME"]
TABLE = os.environ["TABLE_NAME"]

s3 = boto3.client("s3", endpoint_url=ENDPOINT, region_name=REGION)
table = boto3.resource("dynamodb", endpoint_url=ENDPOINT, region_name=REGION).Table(TABLE)


def respond(status, body=None):
    text = "" if body is None else json.dumps(body)
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": text}


def upload(event):
    try:
        body = json.loads(event.get("body") or "")
        file_name, content = body["file_name"], body["content"]
        data = base64.b64decode(content, validate=True)
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        return respond(400, {"error": f"invalid request: {error}"})
    image_id = str(uuid.uuid4())
    item = {
        "id": image_id,
        "file_name": file_name,
        "created_at": datetime.now(timezone.utc).isoformat(),
        "metadata": body.get("metadata") or {},
    }
    s3.put_object(Bucket=BUCKET, Key=f"images/{image_id}", Body=data)
    table.put_item(Item=item)
    return respond(201, item)


def list_images(event):
    params = event.get("queryStringParameters") or {}
    condition = None
    if "file_name" in params:
        condition = Attr("file_name").eq(params["file_name"])
    if "created_after" in params:
        after = Attr("created_at").gt(params["created_after"])
        condition = after if condition is None else condition & after
    scan = {"FilterExpression": condition} if condition is not None else {}
    items = table.scan(**scan)["Items"]
    return respond(200, {"items": items})


def get_image(image_id):
    item = table.get_item(Key={"id": image_id}).get("Item")
    if item is None:
        return respond(404, {"error": "not found"})
    data = s3.get_object(Bucket=BUCKET, Key=f"images/{image_id}")["Body"].read()
    return respond(200, dict(item, content=base64.b64encode(data).decode()))


def delete_image(image_id):
    s3.delete_object(Bucket=BUCKET, Key=f"images/{image_id}")
    table.delete_item(Key={"id": image_id})
    return respond(204)


def lambda_handler(event, context):
    method, path = event["httpMethod"], event["path"].rstrip("/")
    try:
        if path == "/images":
            if method == "POST":
                return upload(event)
            if method == "GET":
                return list_images(event)
        elif path.startswith("/images/"):
            image_id = path.split("/")[2]
            if method == "GET":
                return get_image(image_id)
            if method == "DELETE":
                return delete_image(image_id)
        return respond(405 if path.startswith("/images") else 404, {"error": "unsupported route"})
    except Exception as error:  # this design answers any dependency failure with a 500
        return respond(500, {"error": str(error)})
