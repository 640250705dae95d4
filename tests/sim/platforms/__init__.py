"""Registry of platform plug-ins served by the simulator.

Each plug-in is one class derived from platforms.base.Platform, exporting
match(path) -> bool and handle(request_ctx) -> (status, headers, body).  To
add a platform (X, YouTube, Bluesky...), write platforms/<name>.py and list
its class here; scenarios then name it in "platform".
"""

from .facebook import FacebookPlatform
from .mastodon import MastodonPlatform

# name -> class, in the order requests are offered to match().
PLATFORM_CLASSES = {cls.name: cls for cls in (
    FacebookPlatform,
    MastodonPlatform,
)}
