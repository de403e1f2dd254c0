#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""AWS Signature V4 (S3, header auth, signed payload) test vectors made by botocore, for the C++
signer's unit test to compare against without Python (issue 4 "Done means" 2).

    /usr/bin/python3 tests/e2e/sigv4_vectors.py > tests/unit/data/sigv4_botocore.json
    /usr/bin/python3 tests/e2e/sigv4_vectors.py --check tests/unit/data/sigv4_botocore.json

(botocore from Debian's python3-botocore, scripts/install-deps.sh). `--check` exits 1 when the
committed file differs from what this botocore makes now. Regenerate after changing the cases
below; commit the JSON together with this script.

Every request is signed by botocore.auth.S3SigV4Auth on a botocore.awsrequest.AWSRequest at the
frozen time 20130524T000000Z, region us-east-1, service s3, with AWS's documentation example
keys (AKIAIOSFODNN7EXAMPLE / wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY). Path-style URLs:
/BUCKET/KEY, the key encoded as S3 wants it in the canonical URI (RFC 3986 unreserved
characters and '/' as they are, every other UTF-8 byte %XX, uppercase hex; '+' is %2B, ' ' is
%20) - botocore's S3 signer takes the URL path as it is, so `path` is also the request line.

File format (one JSON object):
  generator, botocore_version, algorithm "AWS4-HMAC-SHA256", date "20130524T000000Z",
  region, service, access_key_id, secret_access_key,
  cases: [ {
    name            a short id
    method          GET | PUT | HEAD | DELETE
    url             the full URL as botocore sends it (scheme, host[:port], path, query)
    host            the Host header value signed (port kept unless default for the scheme)
    key             the object key, raw UTF-8 (null for a bucket request)
    path            the encoded path = canonical URI
    query           [[name, value], ...] raw (not encoded), in request order
    headers         {name: value} the request's own headers before signing (e.g. Range,
                    Content-Type), every one of them signed
    payload         the body as UTF-8 text ("" for none)
    payload_sha256  hex SHA-256 of the body (= x-amz-content-sha256)
    signed_headers  "host;range;x-amz-content-sha256;x-amz-date" as in Authorization
    canonical_request  botocore's canonical request (lines joined by "\n")
    string_to_sign  botocore's string to sign
    signature       hex
    authorization   the whole Authorization header value
    signed_request_headers  {name: value} the headers botocore sends: `headers` plus X-Amz-Date,
                    X-Amz-Content-SHA256, Authorization (and Content-Length, not signed); Host
                    comes from the URL
Note: in `url` botocore writes a space in a query value as '+'; the canonical query has %20.
  } ]
A C++ test builds the same request (method, host, path, query, headers, payload, the frozen
time and keys) with the tws signer and compares canonical_request, string_to_sign and
authorization exactly.
"""

import contextlib
import datetime
import hashlib
import json
import sys
import types
import urllib.parse
from unittest import mock

import botocore
import botocore.auth
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

DATE = "20130524T000000Z"
REGION = "us-east-1"
SERVICE = "s3"
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

AWS = "https://s3.amazonaws.com"
LOCAL = "http://127.0.0.1:9000"

# name, endpoint, method, bucket, key, query pairs, headers, payload
CASES = [
    # AWS's own example (S3 API Reference, "Signature Calculations for the Authorization Header:
    # Transferring Payload in a Single Chunk", GET Object): virtual-hosted style (bucket None:
    # the host names it); AWS publishes the signature, checked below (AWS_EXPECTED).
    ("aws-doc-get-object", "https://examplebucket.s3.amazonaws.com", "GET", None, "test.txt", [],
     {"Range": "bytes=0-9"}, ""),
    ("aws-doc-list-objects", "https://examplebucket.s3.amazonaws.com", "GET", None, None,
     [("max-keys", "2"), ("prefix", "J")], {}, ""),
    ("get-range", AWS, "GET", "examplebucket", "test.txt", [], {"Range": "bytes=0-9"}, ""),
    ("get-range-open-end", LOCAL, "GET", "videos", "in/src.mp4", [],
     {"Range": "bytes=1048576-"}, ""),
    ("get-range-space-plus", LOCAL, "GET", "videos", "in/my movie+final (1).mp4", [],
     {"Range": "bytes=0-65535"}, ""),
    ("get-whole", LOCAL, "GET", "videos", "out/v/v.m3u8", [], {}, ""),
    ("put-payload", AWS, "PUT", "examplebucket", "test$file.text", [],
     {"x-amz-storage-class": "REDUCED_REDUNDANCY"}, "Welcome to Amazon S3."),
    ("put-segment", LOCAL, "PUT", "videos", "out/v/v-0123456789abcdef0123456789abcdef-0.ts", [],
     {"Content-Type": "video/mp2t"}, "\u0047" * 188),
    ("put-unicode-key", LOCAL, "PUT", "videos", "out/f\u00fcr/\u0436\u0443\u0440\u043d\u0430\u043b \u65e5\u672c.m3u8",
     [], {"Content-Type": "application/vnd.apple.mpegurl"}, "#EXTM3U\n#EXT-X-ENDLIST\n"),
    ("put-empty", LOCAL, "PUT", "videos", "out/empty", [], {}, ""),
    ("head", LOCAL, "HEAD", "videos", "in/src.mp4", [], {}, ""),
    ("head-space-plus", AWS, "HEAD", "examplebucket", "a b+c/d e+f.mov", [], {}, ""),
    ("delete", LOCAL, "DELETE", "videos", "out/v/v-0123456789abcdef0123456789abcdef-3.ts", [], {}, ""),
    ("delete-nested-unicode", LOCAL, "DELETE", "videos", "a/b/c/d/\u00e9t\u00e9 2024/x+y z.ts", [], {}, ""),
    ("list-v2-prefix", LOCAL, "GET", "videos", None, [("list-type", "2"), ("prefix", "out/v/")], {}, ""),
    ("list-v2-prefix-space-plus", AWS, "GET", "examplebucket", None,
     [("list-type", "2"), ("prefix", "in/my movie+final"), ("max-keys", "1000")], {}, ""),
    ("list-v2-continuation", LOCAL, "GET", "videos", None,
     [("list-type", "2"), ("prefix", "out/\u00fc ber/"), ("continuation-token", "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="),
      ("delimiter", "/")], {}, ""),
]


AWS_EXPECTED = {
    "aws-doc-get-object": "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
    "aws-doc-list-objects": "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
}


class _FrozenDatetime(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return cls.strptime(DATE, "%Y%m%dT%H%M%SZ")


def encode_key(key):
    return urllib.parse.quote(key.encode("utf-8"), safe="/-_.~")


def make_case(name, endpoint, method, bucket, key, query, headers, payload):
    path = (f"/{bucket}" if bucket else "") + (f"/{encode_key(key)}" if key is not None else "")
    path = path or "/"
    body = payload.encode("utf-8")
    req = AWSRequest(method=method, url=endpoint + path, data=body if body else None,
                     params=list(query) if query else None, headers=dict(headers))
    auth = S3SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), SERVICE, REGION)
    # botocore <= 1.31 calls datetime.datetime.utcnow(), later ones get_current_datetime().
    patches = [mock.patch.object(botocore.auth, "datetime",
                                 types.SimpleNamespace(datetime=_FrozenDatetime))]
    if hasattr(botocore.auth, "get_current_datetime"):
        patches.append(mock.patch.object(botocore.auth, "get_current_datetime",
                                         _FrozenDatetime.utcnow))
    with contextlib.ExitStack() as stack:
        for p in patches:
            stack.enter_context(p)
        auth.add_auth(req)
        # The canonical request and string to sign as add_auth made them: without the
        # Authorization header it has just added.
        authz = req.headers["Authorization"]
        del req.headers["Authorization"]
        canonical = auth.canonical_request(req)
        sts = auth.string_to_sign(req, canonical)
        if auth.signature(sts, req) != authz.rsplit("Signature=", 1)[1]:
            raise SystemExit(f"{name}: recomputed signature differs from botocore's header")
        req.headers["Authorization"] = authz
    prepared = req.prepare()
    authz = req.headers["Authorization"]
    signed_headers = authz.split("SignedHeaders=", 1)[1].split(",", 1)[0]
    sha = hashlib.sha256(body).hexdigest()
    if req.headers["X-Amz-Content-SHA256"] != sha:
        raise SystemExit(f"{name}: botocore did not sign the payload hash "
                         f"({req.headers['X-Amz-Content-SHA256']})")
    if req.headers["X-Amz-Date"] != DATE:
        raise SystemExit(f"{name}: the frozen time did not take ({req.headers['X-Amz-Date']})")
    if name in AWS_EXPECTED and authz.rsplit("Signature=", 1)[1] != AWS_EXPECTED[name]:
        raise SystemExit(f"{name}: botocore's signature differs from AWS's published one")
    host = botocore.auth._host_from_url(req.url)
    return {
        "name": name,
        "method": method,
        "url": prepared.url,
        "host": host,
        "key": key,
        "path": path,
        "query": [list(p) for p in query],
        "headers": dict(headers),
        "payload": payload,
        "payload_sha256": sha,
        "signed_headers": signed_headers,
        "canonical_request": canonical,
        "string_to_sign": sts,
        "signature": authz.rsplit("Signature=", 1)[1],
        "authorization": authz,
        "signed_request_headers": {k: v for k, v in prepared.headers.items()},
    }


def generate():
    return {
        "generator": "tests/e2e/sigv4_vectors.py (botocore.auth.S3SigV4Auth)",
        "botocore_version": botocore.__version__,
        "algorithm": "AWS4-HMAC-SHA256",
        "date": DATE,
        "region": REGION,
        "service": SERVICE,
        "access_key_id": ACCESS_KEY,
        "secret_access_key": SECRET_KEY,
        "cases": [make_case(*c) for c in CASES],
    }


def dump(obj):
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


def main():
    data = generate()
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        committed = json.load(open(sys.argv[2], encoding="utf-8"))
        committed.pop("botocore_version", None)
        now = dict(data)
        now.pop("botocore_version", None)
        if committed != now:
            names = [c["name"] for c, d in zip(now["cases"], committed.get("cases", [])) if c != d]
            print(f"{sys.argv[2]} differs from botocore {botocore.__version__}'s vectors "
                  f"(cases {names or 'count/fields'}); regenerate it (see this script's docstring)")
            sys.exit(1)
        print(f"{sys.argv[2]}: {len(now['cases'])} cases match botocore {botocore.__version__}")
        return
    if len(sys.argv) != 1:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        sys.exit(2)
    sys.stdout.write(dump(data))


if __name__ == "__main__":
    main()
