"""The one exception type for mistakes a user can fix (bad paths, options, files).

Entry points catch it and print its message on one line instead of a traceback.
"""
import sys


class UserError(Exception):
    """A problem with the user's input; the message names the file/value and the fix."""


def exit_on_user_error(main):
    """Run main(); turn a UserError into `error: ...` on stderr and exit status 2."""
    try:
        return main()
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
