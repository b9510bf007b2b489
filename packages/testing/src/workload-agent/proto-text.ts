/**
 * The stable SPIFFE Workload API (spiffe/spiffe `standards/workloadapi.proto` without the
 * experimental WIT-SVID RPCs), kept as text: the fake agent writes it to its temp directory and
 * loads it with `@grpc/proto-loader`, independently of the client's embedded descriptor in
 * `@meshless/core`, so the two implementations check each other. No `package` line: methods are
 * `/SpiffeWorkloadAPI/<Method>`, as SPIRE serves them.
 *
 * @internal
 */
export const WORKLOAD_API_PROTO = `syntax = "proto3";

import "google/protobuf/struct.proto";

service SpiffeWorkloadAPI {
    rpc FetchX509SVID(X509SVIDRequest) returns (stream X509SVIDResponse);

    rpc FetchX509Bundles(X509BundlesRequest) returns (stream X509BundlesResponse);

    rpc FetchJWTSVID(JWTSVIDRequest) returns (JWTSVIDResponse);

    rpc FetchJWTBundles(JWTBundlesRequest) returns (stream JWTBundlesResponse);

    rpc ValidateJWTSVID(ValidateJWTSVIDRequest) returns (ValidateJWTSVIDResponse);
}

message X509SVIDRequest {  }

message X509SVIDResponse {
    repeated X509SVID svids = 1;

    repeated bytes crl = 2;

    map<string, bytes> federated_bundles = 3;
}

message X509SVID {
    string spiffe_id = 1;

    bytes x509_svid = 2;

    bytes x509_svid_key = 3;

    bytes bundle = 4;

    string hint = 5;
}

message X509BundlesRequest {
}

message X509BundlesResponse {
    repeated bytes crl = 1;

    map<string, bytes> bundles = 2;
}

message JWTSVIDRequest {
    repeated string audience = 1;

    string spiffe_id = 2;
}

message JWTSVIDResponse {
    repeated JWTSVID svids = 1;
}

message JWTSVID {
    string spiffe_id = 1;

    string svid = 2;

    string hint = 3;
}

message JWTBundlesRequest { }

message JWTBundlesResponse {
    map<string, bytes> bundles = 1;
}

message ValidateJWTSVIDRequest {
    string audience = 1;

    string svid = 2;
}

message ValidateJWTSVIDResponse {
    string spiffe_id = 1;

    google.protobuf.Struct claims = 2;
}
`;
