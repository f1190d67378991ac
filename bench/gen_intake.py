#!/usr/bin/env python3
"""Deterministic generator of `casegate intake` CSV files for the benchmark.

Usage: gen_intake.py ROWS OUT.csv [--seed N]

Every row is a valid filing with a distinct A-Number (so no row is a
duplicate of another and every row creates one person and one case).
Rows are spread over the seven paper offices plus IOE (online channel) and
over many distinct past weekdays, so no office x workday slot comes near its
99,999 receipt-number limit. The same ROWS and seed always give the same file
(byte for byte): received dates are anchored to fixed past dates, never to
"today".
"""

import argparse
import datetime as dt
import random
import sys

PAPER_OFFICES = ["EAC", "WAC", "LIN", "SRC", "NBC", "MSC", "YSC"]
FORMS = ["I-90", "I-129F", "I-130", "I-131", "I-485", "I-539", "I-589",
         "I-751", "I-765", "I-821D", "N-400", "N-600"]
GIVEN = ["Maria", "José", "Ana", "Luis", "Wei", "Fatima", "Olga", "Ahmed",
         "Nguyen", "Priya", "John", "Mary", "Carlos", "Sofia", "Ivan", "Aisha",
         "Kwame", "Mei", "Omar", "Elena", "David", "Sarah", "María José",
         "Jean-Pierre", "Siobhán", "Thanh", "Yusuf", "Grace", "Hiroshi", "Leila"]
FAMILY = ["Nunez", "Núñez-García", "Smith", "Garcia", "Chen", "Khan", "Ivanova",
          "Okafor", "Tran", "Patel", "Kim", "Rodriguez", "Haddad", "Kowalski",
          "O'Brien", "Nakamura", "Mensah", "Silva", "Hernandez", "Johnson",
          "Ali", "Rossi", "Müller", "Lopez", "Martin", "Nguyen", "Cohen",
          "Dubois", "Singh", "Wang"]
STREET_NAMES = ["Main", "Oak", "Maple", "Cedar", "Elm", "Washington", "Lake",
                "Hill", "Park", "Pine", "Sunset", "Lincoln", "Jackson", "River",
                "Church", "Highland", "Meadow", "Forest", "Spring", "Center"]
SUFFIXES = ["St", "Street", "Ave", "Avenue", "Rd", "Blvd", "Dr", "Ln", "Ct", "Way"]
UNITS = ["", "", "", "Apt 4", "Apt 12B", "Unit 3", "Ste 200", "# 7", "Apt 101"]
# (city, state, zip) - real-looking, consistent triples.
PLACES = [("Springfield", "IL", "62701"), ("Chicago", "IL", "60614"),
          ("Houston", "TX", "77002"), ("El Paso", "TX", "79901"),
          ("Los Angeles", "CA", "90012"), ("San Jose", "CA", "95113"),
          ("Miami", "FL", "33130"), ("Orlando", "FL", "32801"),
          ("New York", "NY", "10001"), ("Brooklyn", "NY", "11201"),
          ("Newark", "NJ", "07102"), ("Boston", "MA", "02108"),
          ("Seattle", "WA", "98101"), ("Phoenix", "AZ", "85004"),
          ("Denver", "CO", "80202"), ("Atlanta", "GA", "30303"),
          ("Minneapolis", "MN", "55401"), ("Omaha", "NE", "68102"),
          ("Washington", "DC", "20001"), ("San Juan", "PR", "00901")]

HEADER = ("a_number,given_name,family_name,date_of_birth,street,unit,city,state,"
          "zip,email,form,office,received_date,channel,protected\n")

# Fixed anchor: the last received date used (a past Friday, end of FY2025).
ANCHOR = dt.date(2025, 9, 30)
SLOT_TARGET = 50_000  # keep each office x workday slot well under 99,999


def weekdays_back(anchor, n):
    days, d = [], anchor
    while len(days) < n:
        if d.weekday() < 5:
            days.append(d)
        d -= dt.timedelta(days=1)
    days.reverse()
    return days


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rows", type=int)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=20261128)
    ap.add_argument("--online-percent", type=int, default=10,
                    help="share of online (IOE) filings, 0-100")
    a = ap.parse_args()
    if a.rows < 1 or a.rows > 899_999_999:
        sys.exit("rows must be between 1 and 899,999,999")

    rng = random.Random(a.seed)
    n_days = max(200, -(-a.rows // (len(PAPER_OFFICES) * SLOT_TARGET)))
    days = [d.isoformat() for d in weekdays_back(ANCHOR, n_days)]
    # Receiving dates as ordinals, to build births strictly before them.
    day_ord = [dt.date.fromisoformat(d).toordinal() for d in days]
    dob_lo = dt.date(1940, 1, 1).toordinal()
    dob_span = dt.date(2007, 12, 31).toordinal() - dob_lo
    dob_cache = {}

    def dob_str(o):
        s = dob_cache.get(o)
        if s is None:
            s = dob_cache[o] = dt.date.fromordinal(o).isoformat()
        return s

    rnd = rng.random
    rint = rng.randrange
    out = open(a.out, "w", encoding="utf-8", newline="")
    out.write(HEADER)
    buf = []
    n_places, n_given, n_family = len(PLACES), len(GIVEN), len(FAMILY)
    online_cut = a.online_percent / 100.0
    for i in range(a.rows):
        a_number = "A%09d" % (100_000_001 + i)
        given = GIVEN[rint(n_given)]
        family = FAMILY[rint(n_family)]
        di = rint(n_days)
        dob_o = dob_lo + rint(dob_span)
        if dob_o >= day_ord[di]:
            dob_o = day_ord[di] - 1 - rint(3650)
        street = "%d %s %s" % (1 + rint(9899), STREET_NAMES[rint(20)], SUFFIXES[rint(10)])
        unit = UNITS[rint(9)]
        city, state, zip_ = PLACES[rint(n_places)]
        email = "" if rnd() < 0.3 else "filer%d@example.com" % i
        form = FORMS[rint(12)]
        if rnd() < online_cut:
            office, channel = "IOE", "online"
        else:
            office, channel = PAPER_OFFICES[rint(7)], "paper"
        buf.append(",".join((a_number, given, family, dob_str(dob_o), street, unit,
                             city, state, zip_, email, form, office, days[di],
                             channel, "no")))
        if len(buf) >= 50_000:
            buf.append("")
            out.write("\n".join(buf))
            buf = []
    if buf:
        buf.append("")
        out.write("\n".join(buf))
    out.close()


if __name__ == "__main__":
    main()
