"""The one exception type for mistakes a user can fix (bad paths, options, files).

Entry points catch it and print its message on one line instead of a traceback.
"""
import os
import sys


class UserError(Exception):
    """A problem with the user's input; the message names the file/value and the fix."""


class DataError(UserError):
    """A bad data file found while reading a batch: a training run can save and resume after it."""


def not_a_file(path, option):
    """Refuse an output folder (option names it) that is an existing file, before any work."""
    if path and os.path.exists(path) and not os.path.isdir(path):
        raise UserError(f"{option} {path}: is a file, not a folder; name a folder (it is made if missing)")


def exit_on_user_error(main):
    """Run main(); turn a UserError into one `error: ...` line on stderr and exit status 2."""
    try:
        return main()
    except UserError as e:
        # Messages can quote a library's text (PIL, torch), which may span lines.
        print(f"error: {' '.join(str(e).split())}", file=sys.stderr)
        sys.exit(2)
