"""The fill page's own sending of a form with files (form-fill.js), told where a successful post leads.

The page sends the form itself to show how much has been uploaded. A request follows redirects without
saying so, and the page it fetched would spend the flash message ("已提交") that belongs to the page the
person lands on. So a post marked by the script answers a redirect with its address in ``X-Location``
and no body; the script navigates there, and the message is shown there, as after a plain post.
"""
from flask import request

HEADER = "X-Upload-Progress"


def redirect_as_header(response):
    location = response.headers.get("Location")
    if request.method != "POST" or not request.headers.get(HEADER) or not 300 <= response.status_code < 400 \
            or not location:
        return response
    response.status_code = 204
    response.headers["X-Location"] = location
    del response.headers["Location"]
    response.set_data(b"")
    return response
