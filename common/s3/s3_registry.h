// SPDX-License-Identifier: LGPL-2.1-or-later
// How an S3 object is named to rangesrc, and where its credentials come from.
//
// A location is "s3://REMOTE-BUCKET/KEY?endpoint=URL&region=REGION": the key percent-encoded
// per path segment ('/' kept), endpoint and region percent-encoded query values. It never
// holds secrets, since locations end up in logs and error messages. The credentials are
// looked up in a process-wide registry by (endpoint, remote bucket): the service registers
// every configured S3 bucket when it opens it (open_storage). Used on its own, rangesrc
// takes the credentials (and endpoint/region) as element properties instead; the
// environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL)
// is the last resort.
#pragma once

#include <string>

#include "common/s3/s3_client.h"
#include "common/s3/sigv4.h"

namespace tws::s3 {

struct Location {
  std::string bucket;    // remote bucket
  std::string key;       // decoded
  std::string endpoint;  // empty when the URI has none
  std::string region;    // empty when the URI has none
};

std::string make_location(const Location& loc);
// False with a one-line reason for anything but a well-formed s3://BUCKET/KEY[?...].
bool parse_location(const std::string& uri, Location* loc, std::string* error);

// What an element's properties say about the store; empty = not set.
struct Overrides {
  std::string endpoint;  // "http://127.0.0.1:9000"
  std::string region;
  std::string access_key_id;
  std::string secret_access_key;
};

// The store behind `loc`: endpoint and region from the overrides, else the location's query,
// else AWS_ENDPOINT_URL / AWS_REGION (us-east-1, AWS's endpoint for it); credentials from
// the overrides, else the registry, else AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
Target resolve_target(const Location& loc, const Overrides& overrides);

void register_credentials(const std::string& endpoint, const std::string& bucket,
                          const Credentials& creds);
bool lookup_credentials(const std::string& endpoint, const std::string& bucket, Credentials* creds);

}  // namespace tws::s3
