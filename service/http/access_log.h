// SPDX-License-Identifier: LGPL-2.1-or-later
// One structured line per request on stderr (method, path without query, status, bytes, ms)
// and the tws_http_requests_total counter; also remembers which messages have finished.
#pragma once

#include <libsoup/soup.h>

namespace tws {

void attach_access_log(SoupServer* server);

// Whether the message's exchange is over (answered, or the client went away): it must not
// be answered or unpaused any more.
bool message_finished(SoupServerMessage* msg);

// A response written around libsoup (the HTTP listener's refusals): logged and counted with
// `status`, as sent whole, however the connection ends.
void note_response_sent(SoupServerMessage* msg, int status);

}  // namespace tws
