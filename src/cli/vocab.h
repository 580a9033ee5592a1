/*
 * vocab.h - the CLI's names for the one JSON vocabulary, which lives in
 * server/vocab.h since the HTTP API speaks it too (docs/api.md).  New code
 * calls the vocab_* functions; these names stay for the commands.
 */
#ifndef SLIPWAY_CLI_VOCAB_H
#define SLIPWAY_CLI_VOCAB_H

#include "server/vocab.h"

#define CLI_API_VERSION VOCAB_API_VERSION
#define cli_doc vocab_doc
#define cli_list_doc vocab_list_doc
#define cli_json_time vocab_json_time
#define cli_json_str vocab_json_str
#define cli_deployment_json vocab_deployment_json
#define cli_transition_json vocab_transition_json
#define cli_approval_json vocab_approval_json
#define cli_incident_json vocab_incident_json
#define cli_delivery_json vocab_delivery_json

#endif
