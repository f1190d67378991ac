#!/usr/bin/env python3
"""Response-time distributions of POST /access-code for a known vs an unknown
A-Number (and a protected person), measured in one run against a running
casegate with the demo data. The difference must be within noise.

usage: bench/access_code_timing.py BASE_URL [ROUNDS]
Start the server with a generous per-IP limit for the run, e.g.
  CASEGATE_DATA_DIR=$(mktemp -d) casegate serve --demo
(the per-IP limit of 20/hour applies: run ROUNDS <= 6 per identifier, or
 restart the server between runs; the script uses distinct client IPs only if
 CASEGATE_CLIENT_IP_HEADER=x-forwarded-for is set on the server).
"""
import hashlib
import re
import statistics
import sys
import time
import urllib.parse
import urllib.request

BASE = sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8080"
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 5

COMMON = {
    "id_kind": "a_number", "given_name": "Maria Jose", "family_name": "Nunez Garcia",
    "dob_month": "2", "dob_day": "15", "dob_year": "1985",  # wrong day: identity mismatch
    "street": "123 Main St", "unit": "Apt 4", "city": "Springfield", "state": "IL",
    "zip": "62701", "delivery": "email",
}
CASES = {
    "known A-Number, wrong date of birth": "A012345678",
    "unknown A-Number": "A099999991",
    "protected person": "A013670001",
}


def solve(salt, difficulty):
    n = 0
    while True:
        h = hashlib.sha256(f"{salt}:{n}".encode()).digest()
        bits = 0
        for b in h:
            if b == 0:
                bits += 8
                continue
            bits += 8 - b.bit_length()
            break
        if bits >= difficulty:
            return n
        n += 1


def one(a_number, ip):
    with urllib.request.urlopen(f"{BASE}/access-code") as r:
        html = r.read().decode()
        cookie = next(v.split(";")[0] for k, v in r.getheaders() if k.lower() == "set-cookie" and v.startswith("__Host-csrf="))
    csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
    token = re.search(r'name="captcha_token" value="([^"]+)"', html).group(1)
    salt = re.search(r'data-captcha-salt="([^"]+)"', html).group(1)
    diff = int(re.search(r'data-captcha-difficulty="(\d+)"', html).group(1))
    form = dict(COMMON, a_number=a_number, csrf=csrf, captcha_token=token, captcha_solution=str(solve(salt, diff)))
    req = urllib.request.Request(f"{BASE}/access-code", data=urllib.parse.urlencode(form).encode(),
                                 headers={"X-Forwarded-For": ip, "Cookie": cookie})
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req) as r:
            r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        status = e.code
    return (time.perf_counter() - t0) * 1000, status


def main():
    results = {name: [] for name in CASES}
    for i in range(ROUNDS):
        for j, (name, a) in enumerate(CASES.items()):
            ms, status = one(a, f"10.9.{i}.{j}")
            if status != 200:
                print(f"warning: {name} answered {status}", file=sys.stderr)
            results[name].append(ms)
    print(f"POST /access-code, {ROUNDS} requests each (ms)")
    print("| case | min | p50 | max | mean |")
    print("|---|---|---|---|---|")
    for name, xs in results.items():
        print(f"| {name} | {min(xs):.1f} | {statistics.median(xs):.1f} | {max(xs):.1f} | {statistics.mean(xs):.1f} |")
    meds = [statistics.median(xs) for xs in results.values()]
    print(f"largest difference of medians: {max(meds) - min(meds):.1f} ms")


if __name__ == "__main__":
    main()
