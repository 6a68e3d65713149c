"""Serves bench/python_design/handler.py over HTTP for `make bench`: each request becomes an API Gateway
(REST, payload v1) event, as `sam local start-api` would hand it to the function. Standard
library only. BIND_ADDR is host:port.
"""
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import handler  # noqa: E402  (reads the environment and builds the clients, as a cold start does)


class ApiGateway(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def invoke(self):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else None
        event = {
            "httpMethod": self.command,
            "path": url.path,
            "queryStringParameters": dict(parse_qsl(url.query)) or None,
            "headers": dict(self.headers),
            "body": body,
            "isBase64Encoded": False,
        }
        result = handler.lambda_handler(event, None)
        payload = result.get("body", "").encode()
        self.send_response(result["statusCode"])
        for name, value in result.get("headers", {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_DELETE = invoke

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    host, port = os.environ.get("BIND_ADDR", "127.0.0.1:3000").rsplit(":", 1)
    ThreadingHTTPServer((host, int(port)), ApiGateway).serve_forever()
