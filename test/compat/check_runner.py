"""What the client checks in this directory share: one PASS or FAIL line per check, and a tally."""


class CheckFailed(Exception):
    """A check's own finding: the server answered, but not as expected."""


class CheckRunner:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def describe(self, error):
        """The FAIL text for a client library's exception, or None to let it propagate."""
        return None

    def check(self, name, fn):
        try:
            fn()
        except CheckFailed as e:
            self.fail(name, str(e))
        except Exception as e:  # noqa: BLE001 - only the client's own errors are reported, others re-raised
            text = self.describe(e)
            if text is None:
                raise
            self.fail(name, text)
        else:
            self.passed += 1
            print(f"PASS {name}", flush=True)

    def fail(self, name, text):
        self.failed += 1
        print(f"FAIL {name}: {text}", flush=True)
