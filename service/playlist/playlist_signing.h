// SPDX-License-Identifier: LGPL-2.1-or-later
// What a client gets for a stored playlist (media or master): the "## tws-record" comment
// dropped and every URI inside it (segment lines, child playlists, URI="..." attributes)
// signed for that URI's own path with the same Expires and KeyId as the playlist's URL.
#pragma once

#include <cstdint>
#include <string>

#include "service/core/uri.h"

namespace tws {

struct SigningKey;

// Resolves a URI reference found in the playlist at `base` to the object it names. False for
// absolute URLs (another host), and for references that leave the bucket or are not valid keys.
bool resolve_playlist_reference(const ObjectUri& base, const std::string& reference,
                                ObjectUri* target);

// The reference with "?Expires=..&KeyId=..&Signature=.." (or "&..." after an existing query)
// appended, signed for the object it names; unchanged when it names no object of the bucket.
std::string sign_playlist_reference(const ObjectUri& base, const std::string& reference,
                                    const SigningKey& key, int64_t expires);

std::string signed_playlist_text(const std::string& text, const ObjectUri& playlist,
                                 const SigningKey& key, int64_t expires);

}  // namespace tws
