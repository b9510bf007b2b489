import { fromJSON, type Options, type PackageDefinition } from '@grpc/proto-loader';

/**
 * The Workload API service as a protobuf.js JSON descriptor: the same definition as
 * `workload.proto` beside this file (plus `google/protobuf/struct.proto`), embedded because tsc
 * does not copy `.proto` files into `dist`. Loading it needs no file system access. (Not typed as
 * protobufjs' `INamespace`: its typings require `comment` on methods and lack map fields.)
 */
const WORKLOAD_API_DESCRIPTOR = {
  nested: {
    SpiffeWorkloadAPI: {
      methods: {
        FetchX509SVID: {
          requestType: 'X509SVIDRequest',
          responseType: 'X509SVIDResponse',
          responseStream: true,
        },
        FetchX509Bundles: {
          requestType: 'X509BundlesRequest',
          responseType: 'X509BundlesResponse',
          responseStream: true,
        },
        FetchJWTSVID: {
          requestType: 'JWTSVIDRequest',
          responseType: 'JWTSVIDResponse',
        },
        FetchJWTBundles: {
          requestType: 'JWTBundlesRequest',
          responseType: 'JWTBundlesResponse',
          responseStream: true,
        },
        ValidateJWTSVID: {
          requestType: 'ValidateJWTSVIDRequest',
          responseType: 'ValidateJWTSVIDResponse',
        },
      },
    },
    X509SVIDRequest: {
      fields: {},
    },
    X509SVIDResponse: {
      fields: {
        svids: {
          rule: 'repeated',
          type: 'X509SVID',
          id: 1,
        },
        crl: {
          rule: 'repeated',
          type: 'bytes',
          id: 2,
        },
        federated_bundles: {
          keyType: 'string',
          type: 'bytes',
          id: 3,
        },
      },
    },
    X509SVID: {
      fields: {
        spiffe_id: {
          type: 'string',
          id: 1,
        },
        x509_svid: {
          type: 'bytes',
          id: 2,
        },
        x509_svid_key: {
          type: 'bytes',
          id: 3,
        },
        bundle: {
          type: 'bytes',
          id: 4,
        },
        hint: {
          type: 'string',
          id: 5,
        },
      },
    },
    X509BundlesRequest: {
      fields: {},
    },
    X509BundlesResponse: {
      fields: {
        crl: {
          rule: 'repeated',
          type: 'bytes',
          id: 1,
        },
        bundles: {
          keyType: 'string',
          type: 'bytes',
          id: 2,
        },
      },
    },
    JWTSVIDRequest: {
      fields: {
        audience: {
          rule: 'repeated',
          type: 'string',
          id: 1,
        },
        spiffe_id: {
          type: 'string',
          id: 2,
        },
      },
    },
    JWTSVIDResponse: {
      fields: {
        svids: {
          rule: 'repeated',
          type: 'JWTSVID',
          id: 1,
        },
      },
    },
    JWTSVID: {
      fields: {
        spiffe_id: {
          type: 'string',
          id: 1,
        },
        svid: {
          type: 'string',
          id: 2,
        },
        hint: {
          type: 'string',
          id: 3,
        },
      },
    },
    JWTBundlesRequest: {
      fields: {},
    },
    JWTBundlesResponse: {
      fields: {
        bundles: {
          keyType: 'string',
          type: 'bytes',
          id: 1,
        },
      },
    },
    ValidateJWTSVIDRequest: {
      fields: {
        audience: {
          type: 'string',
          id: 1,
        },
        svid: {
          type: 'string',
          id: 2,
        },
      },
    },
    ValidateJWTSVIDResponse: {
      fields: {
        spiffe_id: {
          type: 'string',
          id: 1,
        },
        claims: {
          type: 'google.protobuf.Struct',
          id: 2,
        },
      },
    },
    google: {
      nested: {
        protobuf: {
          nested: {
            Struct: {
              fields: {
                fields: {
                  keyType: 'string',
                  type: 'Value',
                  id: 1,
                },
              },
            },
            Value: {
              oneofs: {
                kind: {
                  oneof: [
                    'nullValue',
                    'numberValue',
                    'stringValue',
                    'boolValue',
                    'structValue',
                    'listValue',
                  ],
                },
              },
              fields: {
                nullValue: {
                  type: 'NullValue',
                  id: 1,
                },
                numberValue: {
                  type: 'double',
                  id: 2,
                },
                stringValue: {
                  type: 'string',
                  id: 3,
                },
                boolValue: {
                  type: 'bool',
                  id: 4,
                },
                structValue: {
                  type: 'Struct',
                  id: 5,
                },
                listValue: {
                  type: 'ListValue',
                  id: 6,
                },
              },
            },
            NullValue: {
              values: {
                NULL_VALUE: 0,
              },
            },
            ListValue: {
              fields: {
                values: {
                  rule: 'repeated',
                  type: 'Value',
                  id: 1,
                },
              },
            },
          },
        },
      },
    },
  },
};

/** How the messages are decoded: proto field names, defaults filled in, `bytes` as Buffer. */
export const PROTO_LOADER_OPTIONS: Options = { keepCase: true, defaults: true, oneofs: true };

/** Loads the Workload API package definition (service `SpiffeWorkloadAPI`, no package). */
export function loadWorkloadApiDefinition(): PackageDefinition {
  return fromJSON(
    WORKLOAD_API_DESCRIPTOR as unknown as Parameters<typeof fromJSON>[0],
    PROTO_LOADER_OPTIONS,
  );
}

/** One RPC of the service, typed with the message shapes below. */
export interface WorkloadApiMethod<Request, Response> {
  /** `/SpiffeWorkloadAPI/<Method>`. */
  readonly path: string;
  readonly requestSerialize: (value: Request) => Buffer;
  readonly responseDeserialize: (bytes: Buffer) => Response;
}

/** The five RPCs of the stable Workload API. */
export interface WorkloadApiMethods {
  readonly FetchX509SVID: WorkloadApiMethod<Record<string, never>, X509SvidResponseMessage>;
  readonly FetchX509Bundles: WorkloadApiMethod<Record<string, never>, X509BundlesResponseMessage>;
  readonly FetchJWTSVID: WorkloadApiMethod<JwtSvidRequestMessage, JwtSvidResponseMessage>;
  readonly FetchJWTBundles: WorkloadApiMethod<Record<string, never>, JwtBundlesResponseMessage>;
  readonly ValidateJWTSVID: WorkloadApiMethod<
    ValidateJwtSvidRequestMessage,
    ValidateJwtSvidResponseMessage
  >;
}

let methods: WorkloadApiMethods | undefined;

/** The service's methods (loaded once, on first use). */
export function workloadApiMethods(): WorkloadApiMethods {
  methods ??= loadWorkloadApiDefinition()['SpiffeWorkloadAPI'] as unknown as WorkloadApiMethods;
  return methods;
}

/** `X509SVID` as decoded with {@link PROTO_LOADER_OPTIONS}. */
export interface X509SvidMessage {
  spiffe_id: string;
  /** Concatenated DER: leaf first, then intermediates. */
  x509_svid: Buffer;
  /** PKCS#8 DER. */
  x509_svid_key: Buffer;
  /** Concatenated DER roots of the SVID's trust domain. */
  bundle: Buffer;
  hint: string;
}

/** `X509SVIDResponse`. */
export interface X509SvidResponseMessage {
  svids: X509SvidMessage[];
  crl: Buffer[];
  /** Keyed by trust domain ID (`spiffe://example.org`); concatenated DER roots. */
  federated_bundles: Record<string, Buffer>;
}

/** `X509BundlesResponse`. */
export interface X509BundlesResponseMessage {
  crl: Buffer[];
  bundles: Record<string, Buffer>;
}

/** `JWTSVIDRequest`. */
export interface JwtSvidRequestMessage {
  audience: string[];
  spiffe_id: string;
}

/** `JWTSVID`. */
export interface JwtSvidMessage {
  spiffe_id: string;
  svid: string;
  hint: string;
}

/** `JWTSVIDResponse`. */
export interface JwtSvidResponseMessage {
  svids: JwtSvidMessage[];
}

/** `JWTBundlesResponse`: JWKS documents (JSON bytes) keyed by trust domain ID. */
export interface JwtBundlesResponseMessage {
  bundles: Record<string, Buffer>;
}

/** `ValidateJWTSVIDRequest`. */
export interface ValidateJwtSvidRequestMessage {
  audience: string;
  svid: string;
}

/** `google.protobuf.Value` with `oneofs: true` (`kind` names the set field). */
export interface ProtoValue {
  kind?: string;
  nullValue?: number;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: ProtoStruct;
  listValue?: { values?: ProtoValue[] };
}

/** `google.protobuf.Struct`. */
export interface ProtoStruct {
  fields?: Record<string, ProtoValue>;
}

/** `ValidateJWTSVIDResponse`. */
export interface ValidateJwtSvidResponseMessage {
  spiffe_id: string;
  claims: ProtoStruct | null;
}
