"""The multilingual calendar: calendar entries and their iCal feeds (`twinning.calendar`).

This folder is installed as `twinning.calendar`. When the repository root is on
`sys.path` (`python -m pytest`, `python -c ...` from the root), a bare `import calendar`
would find this folder instead of the standard library's module, and aiohttp or
`http.cookiejar` would then fail on `calendar.timegm`. The guard below notices that we
were imported under the bare name and puts the standard library's `calendar.py` in our
place, so the root stays safe to run from (pinned by tests/test_packaging.py).
"""

if __name__ == "calendar":  # imported as the stdlib module's name, not as twinning.calendar
    import importlib.util as _util
    import os as _os
    import sys as _sys
    import sysconfig as _sysconfig

    _spec = _util.spec_from_file_location(
        "calendar", _os.path.join(_sysconfig.get_paths()["stdlib"], "calendar.py")
    )
    assert _spec is not None and _spec.loader is not None
    _stdlib_calendar = _util.module_from_spec(_spec)
    _sys.modules["calendar"] = _stdlib_calendar
    _spec.loader.exec_module(_stdlib_calendar)
    globals().update(_stdlib_calendar.__dict__)
