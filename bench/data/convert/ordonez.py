#!/usr/bin/env python3
"""Convert the UCI "Activities of Daily Living (ADLs) Recognition Using Binary Sensors"
data (Ordonez et al. 2013) for one household into the normalised hubsense format.

Plain Python 3.11 standard library.  Run:  python3 ordonez.py DIR
DIR holds raw/ with the household's original files; the household (A or B) is taken from its name
(ordonez_a / ordonez_b).  See bench/data/README.md.

Outputs (in DIR):
  events.csv                 PIRs + main-door contact only (what a hubsense user has)
  events_all.csv             all 12 binary sensors; non-PIR, non-door sensors (pressure mats,
                             cupboard/fridge contacts, flush, electric) emitted as motion/no_motion
  layout_home.json           one space "home" (kind room): Maindoor + all PIRs   -> events.csv
  layout_home_allsensors.json  same, all sensors counted as presence evidence    -> events_all.csv
  truth.csv                  space=home occupied except during "Leaving" labels
  recordings.csv             one recording = labelled span
  unlabelled.csv             label gaps > 30 min or containing a main-door event
  layout_rooms.json          one "open" space per room that has a PIR, that room's PIR(s)
  unlabelled_rooms.csv       every label gap (the room is unknown there)  -> used by layout_rooms
  truth.csv also holds the room spaces: a room is occupied during activities located in it
  (ACTIVITY_ROOM below; meals are assigned to the kitchen, which is an assumption).
"""
import csv
import datetime as dt
import itertools
import json
import os
import re
import sys

# the data set folder (holding raw/): the first argument, else this script's own folder
HERE = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
HOUSE = os.path.basename(HERE)[-1].upper()          # 'A' or 'B'
RAW = os.path.join(HERE, "raw")
GAP_LIMIT = 30 * 60                                  # s; longer label gaps are unlabelled
ACTIVITY_ROOM = {"Sleeping": "bedroom", "Toileting": "bathroom", "Showering": "bathroom",
                 "Grooming": "bathroom", "Spare_Time/TV": "living", "Breakfast": "kitchen",
                 "Lunch": "kitchen", "Dinner": "kitchen", "Snack": "kitchen", "Leaving": None}
PIR_ROOM = {"Basin": "bathroom", "Shower": "bathroom", "Cooktop": "kitchen",
            "Door_Kitchen": "kitchen", "Door_Bedroom": "bedroom", "Door_Living": "living"}
# Household B's Door_* PIRs are mounted at the room doors: they see people passing the doorway, not
# whether anyone is in the room, so a room is modelled with the PIRs inside it only (the home layout
# keeps them all: passing a doorway is motion in the home).
INSIDE = {p for p in PIR_ROOM if not p.startswith("Door_")}


def P(s):
    # local wall-clock time without zone in the raw files: treated as UTC
    return dt.datetime.strptime(s, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)


def iso(d):
    return d.isoformat().replace("+00:00", "Z")


def read_rows(fn):
    rows = []
    with open(os.path.join(RAW, fn), encoding="latin-1") as f:
        for i, line in enumerate(f):
            if i < 2:                                 # header + dashes
                continue
            parts = [x.strip() for x in re.split(r"\t+", line.strip()) if x.strip()]
            if parts:
                rows.append(parts)
    return rows


def merge(iv):
    out = []
    for a, b in sorted(iv):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


def main():
    sens = read_rows(f"Ordonez{HOUSE}_Sensors.txt")
    adls = read_rows(f"Ordonez{HOUSE}_ADLs.txt")

    # ---- sensors: each row is an activation interval [start, end]
    per_sensor = {}
    kinds = {}
    for start, end, loc, typ, place in sens:
        sid = f"{loc}_{place}".replace(" ", "") if loc == "Door" else loc
        a, b = P(start), P(end)
        if b < a:
            a, b = b, a
        per_sensor.setdefault(sid, []).append((a, b))
        kinds[sid] = "door" if loc == "Maindoor" else ("pir" if typ == "PIR" else "other:" + typ)

    ev_pd, ev_all = [], []
    for sid, ivs in per_sensor.items():
        k = kinds[sid]
        for a, b in merge(ivs):                      # overlapping activations of one sensor merged
            on, off = ("open", "closed") if k == "door" else ("motion", "no_motion")
            rows = [(a, sid, on), (b, sid, off)]
            ev_all += rows
            if k in ("door", "pir"):
                ev_pd += rows
    order = {"open": 0, "motion": 0, "closed": 1, "no_motion": 1}
    for name, ev in (("events.csv", ev_pd), ("events_all.csv", ev_all)):
        ev.sort(key=lambda e: (e[0], order[e[2]]))
        with open(os.path.join(HERE, name), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["t", "sensor", "state"])
            for t, s, st in ev:
                w.writerow([iso(t), s, st])

    pirs = sorted(s for s, k in kinds.items() if k == "pir")
    others = sorted(s for s, k in kinds.items() if k.startswith("other"))
    door = [s for s, k in kinds.items() if k == "door"]
    lay = {"spaces": [{"id": "home", "kind": "room",
                       "sensors": [{"id": d, "kind": "door"} for d in door] +
                                  [{"id": p, "kind": "pir"} for p in pirs]}],
           "events": "events.csv",
           "notes": (f"Ordonez household {HOUSE}: one front door (Maindoor reed switch) and the "
                     f"household's PIRs ({', '.join(pirs)}). Occupied = resident at home.")}
    with open(os.path.join(HERE, "layout_home.json"), "w") as out:
        json.dump(lay, out, indent=2)
    lay2 = {"spaces": [{"id": "home", "kind": "room",
                        "sensors": [{"id": d, "kind": "door"} for d in door] +
                                   [{"id": p, "kind": "pir"} for p in pirs + others]}],
            "events": "events_all.csv",
            "notes": ("Same home, but every non-door binary sensor (" + ", ".join(others) +
                      ") is also counted as presence evidence (emitted as motion/no_motion). "
                      "Not what a hubsense installation has; for comparison only.")}
    with open(os.path.join(HERE, "layout_home_allsensors.json"), "w") as out:
        json.dump(lay2, out, indent=2)

    # ---- labels
    labels, dropped = [], []
    for start, end, act in adls:
        a, b = P(start), P(end)
        if b < a:
            dropped.append((start, end, act))
            continue
        labels.append((a, b, act))
    labels.sort()
    span_a = labels[0][0]
    span_b = max(b for _, b, _ in labels)
    leaving = merge([(a, b) for a, b, act in labels if act == "Leaving"])
    covered = merge([(a, b) for a, b, _ in labels])
    door_times = sorted(a for a, _ in per_sensor[door[0]]) + sorted(b for _, b in per_sensor[door[0]])
    unl = []
    for (_a0, b0), (a1, _b1) in itertools.pairwise(covered):
        g0, g1 = b0, a1
        if g1 <= g0:
            continue
        has_door = any(g0 < t < g1 for t in door_times)
        if (g1 - g0).total_seconds() > GAP_LIMIT or has_door:
            unl.append((g0, g1))

    # home occupied over the labelled span except Leaving
    occ = []
    cur = span_a
    for a, b in leaving:
        if a > cur:
            occ.append((cur, a))
        cur = max(cur, b)
    if cur < span_b:
        occ.append((cur, span_b))
    rooms = sorted({PIR_ROOM[p] for p in pirs if p in INSIDE})
    room_truth = []
    for room in rooms:
        for a, b in merge([(a, b) for a, b, act in labels if ACTIVITY_ROOM[act] == room]):
            room_truth.append((room, a, b))
    with open(os.path.join(HERE, "truth.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["space", "start", "end"])
        for a, b in occ:
            w.writerow(["home", iso(a), iso(b)])
        for room, a, b in sorted(room_truth, key=lambda r: r[1]):
            w.writerow([room, iso(a), iso(b)])
    with open(os.path.join(HERE, "unlabelled_rooms.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["start", "end"])
        for (_a0, b0), (a1, _b1) in itertools.pairwise(covered):
            if a1 > b0:
                w.writerow([iso(b0), iso(a1)])
    lay3 = {"spaces": [{"id": r, "kind": "open",
                        "sensors": [{"id": p, "kind": "pir"} for p in pirs if PIR_ROOM[p] == r and p in INSIDE]}
                       for r in rooms],
            "events": "events.csv", "unlabelled": "unlabelled_rooms.csv",
            "notes": ("Rooms of household " + HOUSE + " that have a PIR, scored separately. Truth: "
                      "room occupied during activities located in it (Sleeping->bedroom; Toileting, "
                      "Showering, Grooming->bathroom; Spare_Time/TV->living; Breakfast, Lunch, Dinner, "
                      "Snack->kitchen [assumption: eating may happen elsewhere]). All label gaps "
                      "excluded. Household B's kitchen/bedroom/living PIRs are mounted at the room "
                      "doors (they see passages, not presence) and are left out of this layout.")}
    with open(os.path.join(HERE, "layout_rooms.json"), "w") as out:
        json.dump(lay3, out, indent=2)
    with open(os.path.join(HERE, "recordings.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "start", "end"])
        w.writerow([f"ordonez_{HOUSE}", iso(span_a), iso(span_b)])
    with open(os.path.join(HERE, "unlabelled.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["start", "end"])
        for a, b in unl:
            w.writerow([iso(a), iso(b)])
    print(f"house {HOUSE}: {len(ev_pd)} PIR/door events, {len(ev_all)} all-sensor events, "
          f"{len(leaving)} departures, {len(unl)} unlabelled gaps "
          f"({sum((b - a).total_seconds() for a, b in unl) / 3600:.1f} h), "
          f"dropped label rows with end<start: {dropped}")


if __name__ == "__main__":
    main()
