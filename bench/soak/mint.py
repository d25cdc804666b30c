"""Mint the soak run's token mix with PyJWT and Airflow's claim set.

Writes one file per kind into the output directory, one token per line:
  valid.txt     distinct valid execution tokens (churn the verified-token cache)
  expired.txt   correctly signed, expired a minute ago (beyond the leeway)
  forged.txt    valid claims signed with the wrong secret
  wrongtype.txt valid workload tokens (refused by execution-only routes)
"""

import sys
import time
import uuid

import jwt

AUDIENCE = "urn:airflow.apache.org:task"


def token(secret, scope, exp_offset, sub=None):
    now = int(time.time())
    claims = {
        "jti": uuid.uuid4().hex,
        "aud": AUDIENCE,
        "nbf": now - 700,
        "iat": now - 700 if exp_offset < 0 else now,
        "exp": now + exp_offset,
        "sub": str(sub or uuid.uuid4()),
        "scope": scope,
    }
    return jwt.encode(claims, secret, algorithm="HS512", headers={"kid": "not-used"})


def main():
    secret, out, distinct = sys.argv[1], sys.argv[2], int(sys.argv[3])
    kinds = {
        "valid": [token(secret, "execution", 3600) for _ in range(distinct)],
        "expired": [token(secret, "execution", -60) for _ in range(100)],
        "forged": [token("not-the-secret-" + "x" * 64, "execution", 3600) for _ in range(100)],
        "wrongtype": [token(secret, "workload", 3600) for _ in range(100)],
    }
    for kind, tokens in kinds.items():
        with open(f"{out}/{kind}.txt", "w") as f:
            f.write("\n".join(tokens) + "\n")


if __name__ == "__main__":
    main()
