"""Tokens no server should accept, for tests/api/cognito.rs.

Usage: python forge_tokens.py '{"issuer": ..., "client_id": ..., "sub": ...}'
Prints a JSON object of named tokens. The RS256 ones are signed with the key moto signs its
real tokens with (moto ships it), so that only the claims make them wrong.
"""
import base64
import gzip
import hashlib
import hmac
import json
import os
import sys
import time

import moto.cognitoidp
from joserfc import jwk, jwt


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw(header: dict, claims: dict, sign) -> str:
    head = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    return head + "." + b64(sign(head.encode()))


def main() -> None:
    given = json.loads(sys.argv[1])
    resources = os.path.join(os.path.dirname(moto.cognitoidp.__file__), "resources")
    with gzip.open(os.path.join(resources, "jwks-private.json.gz")) as f:
        private = json.load(f)
    with gzip.open(os.path.join(resources, "jwks-public.json.gz")) as f:
        public = json.load(f)
    key = jwk.import_key(private)
    now = int(time.time())
    good = {
        "iss": given["issuer"],
        "sub": given["sub"],
        "client_id": given["client_id"],
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin",
        "iat": now,
        "exp": now + 3600,
    }

    def rs256(claims, kid="dummy"):
        return jwt.encode({"alg": "RS256", "kid": kid}, claims, key)

    public_text = json.dumps(public).encode()
    tokens = {
        "well_formed": rs256(good),
        "expired": rs256({**good, "iat": now - 7200, "exp": now - 3600}),
        "issued_in_the_future": rs256({**good, "iat": now + 3600, "exp": now + 7200}),
        "another_pool": rs256({**good, "iss": given["issuer"] + "x"}),
        "another_client": rs256({**good, "client_id": "someotherclient"}),
        "id_token": rs256({**{k: v for k, v in good.items() if k != "client_id"},
                           "aud": given["client_id"], "token_use": "id"}),
        "no_expiry": rs256({k: v for k, v in good.items() if k != "exp"}),
        "unknown_key": rs256(good, kid="not-in-the-pool"),
        # Cognito's access tokens of a password sign-in carry the scope; others (a client
        # credentials grant, a hosted-UI sign-in asking only `openid`) do not.
        "no_scope": rs256({k: v for k, v in good.items() if k != "scope"}),
        "another_scope": rs256({**good, "scope": "openid email"}),
        "a_longer_scope_name": rs256({**good, "scope": "openid aws.cognito.signin.user.admin2"}),
        "alg_none": raw({"alg": "none", "kid": "dummy"}, good, lambda _: b""),
        "hs256_with_the_public_key": raw(
            {"alg": "HS256", "kid": "dummy"}, good,
            lambda m: hmac.new(public_text, m, hashlib.sha256).digest()),
        "signature_of_another_token": None,
    }
    # A valid signature moved onto other claims.
    other = rs256({**good, "sub": "someone-else"})
    mine = tokens["well_formed"].split(".")
    tokens["signature_of_another_token"] = ".".join(mine[:2] + [other.split(".")[2]])
    print(json.dumps(tokens))


if __name__ == "__main__":
    main()
