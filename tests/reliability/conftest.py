import sys
sys.path.insert(0, "/tmp/rel")
import timing_plugin  # noqa
