import numpy as np

from collector.stats.forecast import forecast, label, window
from collector.stats.history import History
from tests.collector.stats._hubs import FREE, OCC, UNK, change, local, make_hub


def test_probability_weeks_and_labels_from_the_last_weeks():
    hub = make_hub(hours=[{"days": ["mon"], "open": "08:00", "close": "12:00"}])
    now = local(2026, 6, 30, 12).timestamp()  # a Tuesday
    start, end = window(now, weeks=4)  # Mondays June 8, 15, 22, 29 are in the window
    changes = [change(FREE, local(2026, 6, 1))]
    for day in (8, 15, 22):  # 09-10 occupied three Mondays of four; 10-11 on one Monday
        changes += [change(OCC, local(2026, 6, day, 9)), change(FREE, local(2026, 6, day, 10))]
    changes += [change(OCC, local(2026, 6, 29, 10)), change(FREE, local(2026, 6, 29, 11)),
                change(UNK, local(2026, 6, 29, 11))]
    f = forecast(hub, History.from_changes(changes, start, end, end))[0]
    assert f.data_quality == (4 * 4 - 1) / 16  # Monday 29 June unknown from 11:00
    assert f.probability[0, 9] == 0.75 and f.weeks[0, 9] == 4
    assert f.probability[0, 10] == 0.25 and f.weeks[0, 10] == 4
    assert f.probability[0, 11] == 0 and f.weeks[0, 11] == 3
    assert np.isnan(f.probability[1, 9]) and f.weeks[1, 9] == 0
    labels = f.labels
    assert labels[0][9] == "usually busy" and labels[0][10] == "often busy"
    assert labels[0][11] == "usually free" and labels[1][9] == "no data"


def test_label_thresholds():
    assert [label(p, 3) for p in (0.0, 0.249, 0.25, 0.599, 0.6, 1.0)] == [
        "usually free", "usually free", "often busy", "often busy", "usually busy", "usually busy"]
    assert label(0.9, 0) == "no data" and label(float("nan"), 5) == "no data"
