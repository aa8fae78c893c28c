"""Generate ``customers.csv``: a fictional client customer list for the synthlake demo.

Every name, email and phone number is invented by Faker; no real person is described.
The output is deterministic for a given seed (and given Faker/numpy versions):

    python data/sample/make_customers.py            # rewrites data/sample/customers.csv
    python data/sample/make_customers.py --rows 500 --seed 7 --out /tmp/c.csv
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from faker import Faker

SEED = 20240601
N_ROWS = 1000
AS_OF = date(2024, 12, 31)  # snapshot date: recency and churn are measured against it
FIRST_SIGNUP = date(2019, 1, 1)
LAST_SIGNUP = date(2024, 9, 30)

COUNTRIES = {"US": 0.55, "GB": 0.15, "CA": 0.12, "DE": 0.08, "AU": 0.06, "FR": 0.04}
# segment -> (share of customers, median lifetime value, log-sd of value, typical order value)
SEGMENTS = {
    "retail": (0.70, 300.0, 0.9, 60.0),
    "smb": (0.22, 3_000.0, 0.8, 400.0),
    "enterprise": (0.08, 40_000.0, 0.7, 5_000.0),
}
DEFAULT_OUT = Path(__file__).with_name("customers.csv")


def _email(first: str, last: str, domain: str, taken: set[str]) -> str:
    """Build a name-based email address, adding a number when the plain one is taken."""
    local = re.sub(r"[^a-z.]", "", f"{first}.{last}".lower())
    candidate, n = f"{local}@{domain}", 1
    while candidate in taken:
        n += 1
        candidate = f"{local}{n}@{domain}"
    taken.add(candidate)
    return candidate


def make_customers(n: int = N_ROWS, seed: int = SEED) -> pd.DataFrame:
    """Return ``n`` fictional customers; identical output for identical ``seed``."""
    rng = np.random.default_rng(seed)
    fake = Faker("en_US")
    fake.seed_instance(seed)

    segment = rng.choice(list(SEGMENTS), size=n, p=[s[0] for s in SEGMENTS.values()])
    median, sigma, order_value = (np.array([SEGMENTS[s][i] for s in segment]) for i in (1, 2, 3))
    lifetime_value = np.round(rng.lognormal(np.log(median), sigma), 2)
    orders = np.maximum(1, rng.poisson(lifetime_value / order_value))

    span = (LAST_SIGNUP - FIRST_SIGNUP).days
    signup_offset = rng.integers(0, span + 1, size=n)
    signup = [FIRST_SIGNUP + timedelta(days=int(d)) for d in signup_offset]
    # Last order falls strictly after signup and no later than AS_OF;
    # customers with more orders tend to have ordered recently.
    tenure = np.array([(AS_OF - s).days for s in signup])
    recent_share = rng.beta(1.0 + np.log1p(orders), 1.5)
    last_order = [
        s + timedelta(days=1 + int((t - 1) * f)) for s, t, f in zip(signup, tenure, recent_share, strict=True)
    ]
    recency = np.array([(AS_OF - d).days for d in last_order])

    churn_logit = -2.0 + recency / 200.0 - 0.5 * np.log1p(orders)
    churned = rng.random(n) < 1.0 / (1.0 + np.exp(-churn_logit))

    taken: set[str] = set()
    firsts, lasts = [fake.first_name() for _ in range(n)], [fake.last_name() for _ in range(n)]
    domains = [fake.free_email_domain() for _ in range(n)]
    phones = [fake.phone_number() for _ in range(n)]

    df = pd.DataFrame(
        {
            "full_name": [f"{f} {la}" for f, la in zip(firsts, lasts, strict=True)],
            "email": [_email(f, la, d, taken) for f, la, d in zip(firsts, lasts, domains, strict=True)],
            "phone": pd.Series(phones, dtype="string").mask(rng.random(n) < 0.03),
            "signup_date": [d.isoformat() for d in signup],
            "country": rng.choice(list(COUNTRIES), size=n, p=list(COUNTRIES.values())),
            "segment": segment,
            "lifetime_value": lifetime_value,
            "orders": orders,
            "last_order_date": pd.Series([d.isoformat() for d in last_order], dtype="string").mask(
                rng.random(n) < 0.05
            ),
            "churned": np.where(churned, "true", "false"),
        }
    )
    # Customer ids are issued in signup order, as a real CRM would.
    df = df.sort_values("signup_date", kind="stable", ignore_index=True)
    df.insert(0, "customer_id", [f"CUST-{i:06d}" for i in range(1, n + 1)])
    return df


def write_csv_atomically(df: pd.DataFrame, path: Path) -> None:
    """Write ``df`` to a temp file next to ``path``, then atomically move it into place."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="") as fh:
            df.to_csv(fh, index=False, lineterminator="\n")
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; use normal data-file permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=N_ROWS)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    df = make_customers(args.rows, args.seed)
    write_csv_atomically(df, args.out)
    print(f"wrote {len(df)} rows to {args.out}")


if __name__ == "__main__":
    main()
