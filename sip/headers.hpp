#pragma once
// The one header table (STYLE.md item 3): every header sipalg knows, with its full name and compact form
// (RFC 3261 §7.3.3 and the extensions that define one), declared once. Names match case-insensitively;
// a header not in the table is "unknown" for the FortiOS unknown-header check.
#include <cstdint>
#include <string_view>

namespace sipalg::sip {

// X(enum name, header name, compact form or 0)
#define SIPALG_SIP_HEADERS(X)                                                                        \
    X(accept, "Accept", 0)                                                                         \
    X(accept_contact, "Accept-Contact", 'a')                                                       \
    X(accept_encoding, "Accept-Encoding", 0)                                                       \
    X(accept_language, "Accept-Language", 0)                                                       \
    X(accept_resource_priority, "Accept-Resource-Priority", 0)                                     \
    X(alert_info, "Alert-Info", 0)                                                                 \
    X(allow, "Allow", 0)                                                                           \
    X(allow_events, "Allow-Events", 'u')                                                           \
    X(answer_mode, "Answer-Mode", 0)                                                               \
    X(authentication_info, "Authentication-Info", 0)                                               \
    X(authorization, "Authorization", 0)                                                           \
    X(call_id, "Call-ID", 'i')                                                                     \
    X(call_info, "Call-Info", 0)                                                                   \
    X(contact, "Contact", 'm')                                                                     \
    X(content_disposition, "Content-Disposition", 0)                                               \
    X(content_encoding, "Content-Encoding", 'e')                                                   \
    X(content_language, "Content-Language", 0)                                                     \
    X(content_length, "Content-Length", 'l')                                                       \
    X(content_transfer_encoding, "Content-Transfer-Encoding", 0)                                   \
    X(content_type, "Content-Type", 'c')                                                           \
    X(cseq, "CSeq", 0)                                                                             \
    X(date, "Date", 0)                                                                             \
    X(diversion, "Diversion", 0)                                                                   \
    X(error_info, "Error-Info", 0)                                                                 \
    X(event, "Event", 'o')                                                                         \
    X(expires, "Expires", 0)                                                                       \
    X(feature_caps, "Feature-Caps", 0)                                                             \
    X(flow_timer, "Flow-Timer", 0)                                                                 \
    X(from, "From", 'f')                                                                           \
    X(geolocation, "Geolocation", 0)                                                               \
    X(history_info, "History-Info", 0)                                                             \
    X(identity, "Identity", 'y')                                                                   \
    X(identity_info, "Identity-Info", 'n')                                                         \
    X(in_reply_to, "In-Reply-To", 0)                                                               \
    X(info_package, "Info-Package", 0)                                                             \
    X(join, "Join", 0)                                                                             \
    X(max_breadth, "Max-Breadth", 0)                                                               \
    X(max_forwards, "Max-Forwards", 0)                                                             \
    X(mime_version, "MIME-Version", 0)                                                             \
    X(min_expires, "Min-Expires", 0)                                                               \
    X(min_se, "Min-SE", 0)                                                                         \
    X(organization, "Organization", 0)                                                             \
    X(p_access_network_info, "P-Access-Network-Info", 0)                                           \
    X(p_asserted_identity, "P-Asserted-Identity", 0)                                               \
    X(p_associated_uri, "P-Associated-URI", 0)                                                     \
    X(p_called_party_id, "P-Called-Party-ID", 0)                                                   \
    X(p_charging_function_addresses, "P-Charging-Function-Addresses", 0)                           \
    X(p_charging_vector, "P-Charging-Vector", 0)                                                   \
    X(p_early_media, "P-Early-Media", 0)                                                           \
    X(p_preferred_identity, "P-Preferred-Identity", 0)                                             \
    X(p_visited_network_id, "P-Visited-Network-ID", 0)                                             \
    X(path, "Path", 0)                                                                             \
    X(priority, "Priority", 0)                                                                     \
    X(priv_answer_mode, "Priv-Answer-Mode", 0)                                                     \
    X(privacy, "Privacy", 0)                                                                       \
    X(proxy_authenticate, "Proxy-Authenticate", 0)                                                 \
    X(proxy_authorization, "Proxy-Authorization", 0)                                               \
    X(proxy_require, "Proxy-Require", 0)                                                           \
    X(rack, "RAck", 0)                                                                             \
    X(reason, "Reason", 0)                                                                         \
    X(record_route, "Record-Route", 0)                                                             \
    X(recv_info, "Recv-Info", 0)                                                                   \
    X(refer_sub, "Refer-Sub", 0)                                                                   \
    X(refer_to, "Refer-To", 'r')                                                                   \
    X(referred_by, "Referred-By", 'b')                                                             \
    X(reject_contact, "Reject-Contact", 'j')                                                       \
    X(remote_party_id, "Remote-Party-ID", 0)                                                       \
    X(replaces, "Replaces", 0)                                                                     \
    X(reply_to, "Reply-To", 0)                                                                     \
    X(request_disposition, "Request-Disposition", 'd')                                             \
    X(require, "Require", 0)                                                                       \
    X(resource_priority, "Resource-Priority", 0)                                                   \
    X(retry_after, "Retry-After", 0)                                                               \
    X(route, "Route", 0)                                                                           \
    X(rseq, "RSeq", 0)                                                                             \
    X(security_client, "Security-Client", 0)                                                      \
    X(security_server, "Security-Server", 0)                                                      \
    X(security_verify, "Security-Verify", 0)                                                       \
    X(server, "Server", 0)                                                                         \
    X(service_route, "Service-Route", 0)                                                           \
    X(session_expires, "Session-Expires", 'x')                                                     \
    X(sip_etag, "SIP-ETag", 0)                                                                     \
    X(sip_if_match, "SIP-If-Match", 0)                                                             \
    X(subject, "Subject", 's')                                                                     \
    X(subscription_state, "Subscription-State", 0)                                                 \
    X(supported, "Supported", 'k')                                                                 \
    X(target_dialog, "Target-Dialog", 0)                                                           \
    X(timestamp, "Timestamp", 0)                                                                   \
    X(to, "To", 't')                                                                               \
    X(unsupported, "Unsupported", 0)                                                               \
    X(user_agent, "User-Agent", 0)                                                                 \
    X(via, "Via", 'v')                                                                             \
    X(warning, "Warning", 0)                                                                       \
    X(www_authenticate, "WWW-Authenticate", 0)

enum class header_type : std::uint8_t {
    unknown = 0,
#define SIPALG_X(id, name, compact) id,
    SIPALG_SIP_HEADERS(SIPALG_X)
#undef SIPALG_X
        count_
};

// The type of a header name (full or compact form, any case); unknown when not in the table. The name
// must be printable ASCII without white space (0x21-0x7E; message::parse makes sure): the lookup folds
// case by OR-ing 0x20 into whole words, which for such bytes makes only the two cases of a letter
// equal, so a match also proves the name a token.
header_type lookup_header(std::string_view name) noexcept;
// The canonical full name ("Call-ID"), or "" for unknown.
std::string_view header_name(header_type t) noexcept;

} // namespace sipalg::sip
