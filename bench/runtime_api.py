"""A minimal Lambda Runtime API for `make bench`: the function process polls it for events and
posts its answers, as inside Lambda, so the benchmark can measure the binary in its Lambda mode
(cold start to the first answered invocation, memory and CPU per invocation) without Docker.
Standard library only; one invocation at a time, as Lambda gives a function instance.
"""
import json
import queue
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/2018-06-01/runtime"


class RuntimeApi:
    def __init__(self):
        self.events = queue.Queue()
        self.answers = queue.Queue()
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                if self.path != f"{PREFIX}/invocation/next":
                    return self.reply(404, b"{}")
                request_id, event = api.events.get()
                self.reply(200, event, {
                    "Lambda-Runtime-Aws-Request-Id": request_id,
                    "Lambda-Runtime-Deadline-Ms": "4102444800000",
                    "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:bench",
                    "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000;Sampled=0",
                })

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.reply(202, b"{}")
                if self.path.endswith("/response"):
                    api.answers.put(json.loads(body))
                elif self.path.endswith("/error"):
                    api.answers.put({"runtime_error": body.decode(errors="replace")})

            def reply(self, status, body, headers=None):
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def environment(self):
        """What Lambda sets for a function, pointing it at this API."""
        return {
            "AWS_LAMBDA_RUNTIME_API": self.address,
            "AWS_LAMBDA_FUNCTION_NAME": "bench",
            # template.yaml's MemorySize: the decode budget is half of it.
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        }

    def invoke(self, event, timeout=30):
        """Hands `event` (bytes) to the function and returns its answer."""
        self.events.put((str(uuid.uuid4()), event))
        return self.answers.get(timeout=timeout)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def rest_event(method, path, body=b"", content_type=None, query=None, base64_body=False):
    """An API Gateway REST (payload v1) proxy event, as template.yaml's API sends."""
    headers = {"Content-Type": content_type} if content_type else {}
    return json.dumps({
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012", "resourceId": "bench", "stage": "Prod",
            "requestId": str(uuid.uuid4()), "identity": {"sourceIp": "127.0.0.1"},
            "resourcePath": "/{proxy+}", "httpMethod": method, "apiId": "bench",
            "path": f"/Prod{path}", "protocol": "HTTP/1.1", "requestTimeEpoch": 1764000000000,
        },
        "body": body.decode() if body else None,
        "isBase64Encoded": base64_body,
    }).encode()
