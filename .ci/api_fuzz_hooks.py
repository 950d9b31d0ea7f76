"""Hooks of the API fuzz run (.ci/api-fuzz).

An NDJSON receipt batch is a string of lines in the document; Schemathesis has no serializer
for `application/x-ndjson`, so it is sent as the text it is.
"""

import schemathesis

schemathesis.serializer.alias("application/x-ndjson", "text/plain")
