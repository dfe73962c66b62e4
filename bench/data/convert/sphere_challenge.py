#!/usr/bin/env python3
"""Convert the SPHERE Challenge (Twomey et al. 2016) training sequences into the
normalised hubsense format: one "open" space per room with that room's PIR, room-level
ground truth from the location annotations.

Plain Python 3.11 standard library.  Run:  python3 sphere_challenge.py DIR
(DIR holds raw/ with the original files; the outputs are written to DIR; see bench/data/README.md).

Timestamps in the raw data are seconds relative to the start of each sequence (no date).
Sequence N (00001..00010) is placed at 2016-01-01T00:00:00Z + (N-1) days, so the
recordings never overlap; recordings.csv gives each sequence's [start, end).
"""
import csv
import datetime as dt
import glob
import itertools
import json
import os
import sys

# the data set folder (holding raw/): the first argument, else this script's own folder
HERE = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
RAW = os.path.join(HERE, "raw")
EPOCH = dt.datetime(2016, 1, 1, tzinfo=dt.UTC)
FILL_GAP = 5.0        # s; gaps between consecutive location labels shorter than this are closed


def load(path):
    with open(path) as f:
        return json.load(f)


ROOMS = load(os.path.join(RAW, "rooms.json"))
PIRS = load(os.path.join(RAW, "pir_locations.json"))


def iso(base, sec):
    return (base + dt.timedelta(seconds=sec)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def read(fn):
    with open(fn, newline="") as f:
        return [(float(r["start"]), float(r["end"]), r["name"]) for r in csv.DictReader(f)]


def merge(iv):
    out = []
    for a, b in sorted(iv):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


def main():
    events, truth, recs, unl = [], [], [], []
    agree = []
    for seqdir in sorted(glob.glob(os.path.join(RAW, "train", "*"))):
        seq = os.path.basename(seqdir)
        base = EPOCH + dt.timedelta(days=int(seq) - 1)
        meta = load(os.path.join(seqdir, "meta.json"))
        rs, re_ = float(meta["start"]), float(meta["end"])
        recs.append((f"sphere_{seq}", iso(base, rs), iso(base, re_)))

        per = {}
        for a, b, name in read(os.path.join(seqdir, "pir.csv")):
            per.setdefault(name, []).append((a, max(a, b)))
        for name, ivs in per.items():
            for a, b in merge(ivs):
                events.append((base + dt.timedelta(seconds=a), f"pir_{name}", "motion"))
                events.append((base + dt.timedelta(seconds=b), f"pir_{name}", "no_motion"))

        loc = sorted(read(os.path.join(seqdir, "location_0.csv")))
        # close tiny gaps (room transitions) by extending the previous label
        fixed = []
        for i, (a, b, name) in enumerate(loc):
            if i + 1 < len(loc):
                nxt = loc[i + 1][0]
                if b < nxt and nxt - b < FILL_GAP:
                    b = nxt
            fixed.append((a, b, name))
        for a, b, name in fixed:
            truth.append((name, iso(base, a), iso(base, b)))
        cov = merge([(a, b) for a, b, _ in fixed])
        if cov[0][0] > rs:
            unl.append((iso(base, rs), iso(base, cov[0][0])))
        for (_a0, b0), (a1, _b1) in itertools.pairwise(cov):
            unl.append((iso(base, b0), iso(base, a1)))
        if cov[-1][1] < re_:
            unl.append((iso(base, cov[-1][1]), iso(base, re_)))

        # inter-annotator agreement at 1 s resolution where a second annotator exists
        l1 = os.path.join(seqdir, "location_1.csv")
        if os.path.exists(l1):
            other = read(l1)

            def at(labs, t):
                for a, b, n in labs:
                    if a <= t < b:
                        return n
                return None
            n = same = 0
            t = cov[0][0]
            while t < cov[-1][1]:
                x, y = at(fixed, t), at(other, t)
                if x is not None:
                    n += 1
                    same += (x == y)
                t += 1.0
            agree.append((seq, same / n if n else float("nan")))

    order = {"motion": 0, "no_motion": 1}
    events.sort(key=lambda e: (e[0], order[e[2]]))
    with open(os.path.join(HERE, "events.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["t", "sensor", "state"])
        for t, s, st in events:
            w.writerow([t.isoformat(timespec="milliseconds").replace("+00:00", "Z"), s, st])
    with open(os.path.join(HERE, "truth.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["space", "start", "end"])
        for row in sorted(truth, key=lambda r: r[1]):
            w.writerow(row)
    with open(os.path.join(HERE, "recordings.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "start", "end"])
        w.writerows(recs)
    with open(os.path.join(HERE, "unlabelled.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["start", "end"])
        w.writerows(unl)
    lay = {"spaces": [{"id": r, "kind": "open", "sensors": [{"id": f"pir_{r}", "kind": "pir"}]}
                      for r in ROOMS],
           "events": "events.csv",
           "notes": ("SPHERE house (2 floors, Bristol): one PIR per room, no door contacts in the "
                     "data. Each room is an open space scored separately; truth = the room the "
                     "single recruited participant is in (annotator 0's location labels).")}
    with open(os.path.join(HERE, "layout_rooms.json"), "w") as out:
        json.dump(lay, out, indent=2)
    print(f"{len(recs)} recordings, {len(events)} events, {len(truth)} location intervals, "
          f"{len(unl)} unlabelled intervals")
    print("annotator agreement (location_0 vs location_1, 1 s):",
          ", ".join(f"{s}={a:.3f}" for s, a in agree))


if __name__ == "__main__":
    main()
