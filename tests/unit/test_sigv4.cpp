// SPDX-License-Identifier: LGPL-2.1-or-later
// AWS Signature V4: AWS's published S3 examples ("Examples: Signature Calculations",
// sig-v4-header-based-auth: GET object with Range, PUT object, GET bucket lifecycle, GET
// bucket list objects), all for examplebucket, 20130524T000000Z, us-east-1.
#include <gtest/gtest.h>

#include "common/s3/sigv4.h"

using namespace tws::s3;

namespace {

const Credentials kCreds{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"};
const char* kDate = "20130524T000000Z";
const char* kHost = "examplebucket.s3.amazonaws.com";

}  // namespace

TEST(SigV4, GetObjectWithRange) {
  SignInput in{"GET", "/test.txt", {}, {{"Host", kHost}, {"Range", "bytes=0-9"}}, kEmptySha256};
  Signed s = sign(in, kCreds, "us-east-1", kDate);
  EXPECT_EQ(
      s.canonical_request,
      "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
      "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
      "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(s.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  // AWS's page writes the parts comma-separated without a space; we send ", " as botocore
  // and the AWS SDKs do (both accepted; test_sigv4_botocore.cpp checks the exact header).
  EXPECT_EQ(s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, PutObject) {
  const std::string body = "Welcome to Amazon S3.";
  EXPECT_EQ(sha256_hex(body), "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  SignInput in{"PUT",
               "/test$file.text",
               {},
               {{"Host", kHost},
                {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
               sha256_hex(body)};
  Signed s = sign(in, kCreds, "us-east-1", kDate);
  EXPECT_EQ(
      s.canonical_request,
      "PUT\n/test%24file.text\n\ndate:Fri, 24 May 2013 00:00:00 GMT\n"
      "host:examplebucket.s3.amazonaws.com\n"
      "x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
      "x-amz-date:20130524T000000Z\nx-amz-storage-class:REDUCED_REDUNDANCY\n\n"
      "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
      "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  EXPECT_EQ(s.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4, GetBucketLifecycle) {
  SignInput in{"GET", "/", {{"lifecycle", ""}}, {{"Host", kHost}}, kEmptySha256};
  Signed s = sign(in, kCreds, "us-east-1", kDate);
  EXPECT_NE(s.canonical_request.find("GET\n/\nlifecycle=\n"), std::string::npos);
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca");
  EXPECT_EQ(s.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4, ListObjectsSortsQuery) {
  SignInput in{"GET", "/", {{"prefix", "J"}, {"max-keys", "2"}}, {{"Host", kHost}}, kEmptySha256};
  Signed s = sign(in, kCreds, "us-east-1", kDate);
  EXPECT_NE(s.canonical_request.find("GET\n/\nmax-keys=2&prefix=J\n"), std::string::npos);
  EXPECT_EQ(s.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4, SigningKeyIsTheHmacChain) {
  // The same key signs every request of a day/region: the Range GET example's signature.
  const std::string key = signing_key(kCreds.secret_access_key, "20130524", "us-east-1");
  EXPECT_EQ(key.size(), 32u);
  const std::string sts =
      "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
      "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972";
  EXPECT_EQ(hex(hmac_sha256(key, sts)),
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, UriEncodeKeys) {
  EXPECT_EQ(uri_encode("a b", false), "a%20b");
  EXPECT_EQ(uri_encode("a+b", false), "a%2Bb");
  EXPECT_EQ(uri_encode("100%", false), "100%25");
  EXPECT_EQ(uri_encode("dir/sub/x.mp4", false), "dir/sub/x.mp4");
  EXPECT_EQ(uri_encode("a/b", true), "a%2Fb");
  EXPECT_EQ(uri_encode("A-z_0.9~", true), "A-z_0.9~");
  EXPECT_EQ(uri_encode("=&?#!'()*$", true), "%3D%26%3F%23%21%27%28%29%2A%24");
  EXPECT_EQ(uri_encode("ключ", false), "%D0%BA%D0%BB%D1%8E%D1%87");
  EXPECT_EQ(uri_encode("vidéo", false), "vid%C3%A9o");
}

TEST(SigV4, KeysWithSpacesPlusAndUnicodeInCanonicalRequest) {
  SignInput in{
      "GET", "/bucket/my dir/a+b ü.mp4", {{"prefix", "a b/+"}}, {{"Host", "h"}}, kUnsignedPayload};
  std::string signed_headers;
  const std::string canon = canonical_request(in, &signed_headers);
  EXPECT_EQ(canon.substr(0, canon.find("\nhost")),
            "GET\n/bucket/my%20dir/a%2Bb%20%C3%BC.mp4\nprefix=a%20b%2F%2B");
  EXPECT_EQ(signed_headers, "host");
  EXPECT_EQ(canon.substr(canon.rfind('\n') + 1), "UNSIGNED-PAYLOAD");
}

TEST(SigV4, HeaderValuesTrimmedAndNamesLowercased) {
  SignInput in{"GET", "/", {}, {{"HOST", "h"}, {"X-Amz-Meta-A", "  a   b  "}}, kEmptySha256};
  std::string signed_headers;
  const std::string canon = canonical_request(in, &signed_headers);
  EXPECT_NE(canon.find("\nhost:h\nx-amz-meta-a:a b\n"), std::string::npos);
  EXPECT_EQ(signed_headers, "host;x-amz-meta-a");
}

TEST(SigV4, AmzDate) {
  EXPECT_EQ(amz_date(1369353600), "20130524T000000Z");
  EXPECT_EQ(amz_date(0), "19700101T000000Z");
}
