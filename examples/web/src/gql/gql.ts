/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query Viewer {\n    viewer {\n      role\n      scopes\n      user { id name username }\n      companies { id title }\n    }\n  }\n": typeof types.ViewerDocument,
    "\n  query WaitingOnMe($first: Int!) {\n    resolutions(first: $first, filter: { waitingOnMe: true }) {\n      totalCount\n      edges {\n        node {\n          id\n          status\n          issue\n          dueDate\n          company { title }\n          user { name username }\n          payment { total { amount currency } }\n        }\n      }\n    }\n    resolutionSummary {\n      total\n      open\n      waitingOnMe\n    }\n  }\n": typeof types.WaitingOnMeDocument,
    "\n  query Case($id: ID!) {\n    resolution(id: $id) {\n      id\n      status\n      issue\n      dueDate\n      version\n      viewerActions\n      company { title }\n      user { name username }\n      payment { total { amount currency } }\n    }\n  }\n": typeof types.CaseDocument,
    "\n  query Timeline($id: ID!, $last: Int!) {\n    resolution(id: $id) {\n      id\n      events(first: $last) {\n        totalCount\n        edges {\n          cursor\n          node { ...TimelineEvent }\n        }\n      }\n    }\n  }\n": typeof types.TimelineDocument,
    "\n  fragment TimelineEvent on ResolutionEvent {\n    id\n    position\n    action\n    reporterType\n    details\n    fromStatus\n    toStatus\n    createdAt\n  }\n": typeof types.TimelineEventFragmentDoc,
    "\n  subscription EventAdded($id: ID!, $after: String) {\n    resolutionEventAdded(resolutionId: $id, after: $after) {\n      cursor\n      node { ...TimelineEvent }\n    }\n  }\n": typeof types.EventAddedDocument,
    "\n  subscription CaseUpdated($id: ID!) {\n    resolutionUpdated(filter: { resolutionIds: [$id] }) {\n      id\n      status\n      dueDate\n      version\n      viewerActions\n    }\n  }\n": typeof types.CaseUpdatedDocument,
    "\n  mutation Respond($input: ResolutionMessageInput!) {\n    respondToResolution(input: $input) { ...ActionResult }\n  }\n": typeof types.RespondDocument,
    "\n  mutation RequestMoreInfo($input: ResolutionMessageInput!) {\n    requestMoreInfo(input: $input) { ...ActionResult }\n  }\n": typeof types.RequestMoreInfoDocument,
    "\n  mutation Appeal($input: ResolutionMessageInput!) {\n    appealResolution(input: $input) { ...ActionResult }\n  }\n": typeof types.AppealDocument,
    "\n  mutation Deny($input: DenyResolutionInput!) {\n    denyResolution(input: $input) { ...ActionResult }\n  }\n": typeof types.DenyDocument,
    "\n  mutation Accept($input: AcceptResolutionInput!) {\n    acceptResolution(input: $input) { ...ActionResult }\n  }\n": typeof types.AcceptDocument,
    "\n  mutation Withdraw($input: WithdrawResolutionInput!) {\n    withdrawResolution(input: $input) { ...ActionResult }\n  }\n": typeof types.WithdrawDocument,
    "\n  mutation RequestBuyerInfo($input: ResolutionMessageInput!) {\n    requestBuyerInfo(input: $input) { ...ActionResult }\n  }\n": typeof types.RequestBuyerInfoDocument,
    "\n  mutation RequestMerchantInfo($input: ResolutionMessageInput!) {\n    requestMerchantInfo(input: $input) { ...ActionResult }\n  }\n": typeof types.RequestMerchantInfoDocument,
    "\n  mutation MerchantWins($input: DecideResolutionInput!) {\n    decideMerchantWins(input: $input) { ...ActionResult }\n  }\n": typeof types.MerchantWinsDocument,
    "\n  mutation MerchantRefund($input: DecideResolutionInput!) {\n    decideMerchantRefund(input: $input) { ...ActionResult }\n  }\n": typeof types.MerchantRefundDocument,
    "\n  fragment ActionResult on ResolutionPayload {\n    resolution { id status version viewerActions dueDate }\n    event { ...TimelineEvent }\n    userErrors { code field message }\n  }\n": typeof types.ActionResultFragmentDoc,
};
const documents: Documents = {
    "\n  query Viewer {\n    viewer {\n      role\n      scopes\n      user { id name username }\n      companies { id title }\n    }\n  }\n": types.ViewerDocument,
    "\n  query WaitingOnMe($first: Int!) {\n    resolutions(first: $first, filter: { waitingOnMe: true }) {\n      totalCount\n      edges {\n        node {\n          id\n          status\n          issue\n          dueDate\n          company { title }\n          user { name username }\n          payment { total { amount currency } }\n        }\n      }\n    }\n    resolutionSummary {\n      total\n      open\n      waitingOnMe\n    }\n  }\n": types.WaitingOnMeDocument,
    "\n  query Case($id: ID!) {\n    resolution(id: $id) {\n      id\n      status\n      issue\n      dueDate\n      version\n      viewerActions\n      company { title }\n      user { name username }\n      payment { total { amount currency } }\n    }\n  }\n": types.CaseDocument,
    "\n  query Timeline($id: ID!, $last: Int!) {\n    resolution(id: $id) {\n      id\n      events(first: $last) {\n        totalCount\n        edges {\n          cursor\n          node { ...TimelineEvent }\n        }\n      }\n    }\n  }\n": types.TimelineDocument,
    "\n  fragment TimelineEvent on ResolutionEvent {\n    id\n    position\n    action\n    reporterType\n    details\n    fromStatus\n    toStatus\n    createdAt\n  }\n": types.TimelineEventFragmentDoc,
    "\n  subscription EventAdded($id: ID!, $after: String) {\n    resolutionEventAdded(resolutionId: $id, after: $after) {\n      cursor\n      node { ...TimelineEvent }\n    }\n  }\n": types.EventAddedDocument,
    "\n  subscription CaseUpdated($id: ID!) {\n    resolutionUpdated(filter: { resolutionIds: [$id] }) {\n      id\n      status\n      dueDate\n      version\n      viewerActions\n    }\n  }\n": types.CaseUpdatedDocument,
    "\n  mutation Respond($input: ResolutionMessageInput!) {\n    respondToResolution(input: $input) { ...ActionResult }\n  }\n": types.RespondDocument,
    "\n  mutation RequestMoreInfo($input: ResolutionMessageInput!) {\n    requestMoreInfo(input: $input) { ...ActionResult }\n  }\n": types.RequestMoreInfoDocument,
    "\n  mutation Appeal($input: ResolutionMessageInput!) {\n    appealResolution(input: $input) { ...ActionResult }\n  }\n": types.AppealDocument,
    "\n  mutation Deny($input: DenyResolutionInput!) {\n    denyResolution(input: $input) { ...ActionResult }\n  }\n": types.DenyDocument,
    "\n  mutation Accept($input: AcceptResolutionInput!) {\n    acceptResolution(input: $input) { ...ActionResult }\n  }\n": types.AcceptDocument,
    "\n  mutation Withdraw($input: WithdrawResolutionInput!) {\n    withdrawResolution(input: $input) { ...ActionResult }\n  }\n": types.WithdrawDocument,
    "\n  mutation RequestBuyerInfo($input: ResolutionMessageInput!) {\n    requestBuyerInfo(input: $input) { ...ActionResult }\n  }\n": types.RequestBuyerInfoDocument,
    "\n  mutation RequestMerchantInfo($input: ResolutionMessageInput!) {\n    requestMerchantInfo(input: $input) { ...ActionResult }\n  }\n": types.RequestMerchantInfoDocument,
    "\n  mutation MerchantWins($input: DecideResolutionInput!) {\n    decideMerchantWins(input: $input) { ...ActionResult }\n  }\n": types.MerchantWinsDocument,
    "\n  mutation MerchantRefund($input: DecideResolutionInput!) {\n    decideMerchantRefund(input: $input) { ...ActionResult }\n  }\n": types.MerchantRefundDocument,
    "\n  fragment ActionResult on ResolutionPayload {\n    resolution { id status version viewerActions dueDate }\n    event { ...TimelineEvent }\n    userErrors { code field message }\n  }\n": types.ActionResultFragmentDoc,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Viewer {\n    viewer {\n      role\n      scopes\n      user { id name username }\n      companies { id title }\n    }\n  }\n"): (typeof documents)["\n  query Viewer {\n    viewer {\n      role\n      scopes\n      user { id name username }\n      companies { id title }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query WaitingOnMe($first: Int!) {\n    resolutions(first: $first, filter: { waitingOnMe: true }) {\n      totalCount\n      edges {\n        node {\n          id\n          status\n          issue\n          dueDate\n          company { title }\n          user { name username }\n          payment { total { amount currency } }\n        }\n      }\n    }\n    resolutionSummary {\n      total\n      open\n      waitingOnMe\n    }\n  }\n"): (typeof documents)["\n  query WaitingOnMe($first: Int!) {\n    resolutions(first: $first, filter: { waitingOnMe: true }) {\n      totalCount\n      edges {\n        node {\n          id\n          status\n          issue\n          dueDate\n          company { title }\n          user { name username }\n          payment { total { amount currency } }\n        }\n      }\n    }\n    resolutionSummary {\n      total\n      open\n      waitingOnMe\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Case($id: ID!) {\n    resolution(id: $id) {\n      id\n      status\n      issue\n      dueDate\n      version\n      viewerActions\n      company { title }\n      user { name username }\n      payment { total { amount currency } }\n    }\n  }\n"): (typeof documents)["\n  query Case($id: ID!) {\n    resolution(id: $id) {\n      id\n      status\n      issue\n      dueDate\n      version\n      viewerActions\n      company { title }\n      user { name username }\n      payment { total { amount currency } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Timeline($id: ID!, $last: Int!) {\n    resolution(id: $id) {\n      id\n      events(first: $last) {\n        totalCount\n        edges {\n          cursor\n          node { ...TimelineEvent }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Timeline($id: ID!, $last: Int!) {\n    resolution(id: $id) {\n      id\n      events(first: $last) {\n        totalCount\n        edges {\n          cursor\n          node { ...TimelineEvent }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment TimelineEvent on ResolutionEvent {\n    id\n    position\n    action\n    reporterType\n    details\n    fromStatus\n    toStatus\n    createdAt\n  }\n"): (typeof documents)["\n  fragment TimelineEvent on ResolutionEvent {\n    id\n    position\n    action\n    reporterType\n    details\n    fromStatus\n    toStatus\n    createdAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription EventAdded($id: ID!, $after: String) {\n    resolutionEventAdded(resolutionId: $id, after: $after) {\n      cursor\n      node { ...TimelineEvent }\n    }\n  }\n"): (typeof documents)["\n  subscription EventAdded($id: ID!, $after: String) {\n    resolutionEventAdded(resolutionId: $id, after: $after) {\n      cursor\n      node { ...TimelineEvent }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription CaseUpdated($id: ID!) {\n    resolutionUpdated(filter: { resolutionIds: [$id] }) {\n      id\n      status\n      dueDate\n      version\n      viewerActions\n    }\n  }\n"): (typeof documents)["\n  subscription CaseUpdated($id: ID!) {\n    resolutionUpdated(filter: { resolutionIds: [$id] }) {\n      id\n      status\n      dueDate\n      version\n      viewerActions\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Respond($input: ResolutionMessageInput!) {\n    respondToResolution(input: $input) { ...ActionResult }\n  }\n"): (typeof documents)["\n  mutation Respond($input: ResolutionMessageInput!) {\n    respondToResolution(input: $input) { ...ActionResult }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RequestMoreInfo($input: ResolutionMessageInput!) {\n    requestMoreInfo(input: $input) { ...ActionResult }\n  }\n"): (typeof documents)["\n  mutation RequestMoreInfo($input: ResolutionMessageInput!) {\n    requestMoreInfo(input: $input) { ...ActionResult }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Appeal($input: ResolutionMessageInput!) {\n    appealResolution(input: $input) { ...ActionResult }\n  }\n"): (typeof documents)["\n  mutation Appeal($input: ResolutionMessageInput!) {\n    appealResolution(input: $input) { ...ActionResult }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Deny($input: DenyResolutionInput!) {\n    denyResolution(input: $input) { ...ActionResult }\n  }\n"): (typeof documents)["\n  mutation Deny($input: DenyResolutionInput!) {\n    denyResolution(input: $input) { ...ActionResult }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Accept($input: AcceptResolutionInput!) {\n    acceptResolution(input: $input) { ...ActionResult }\n  }\n"): (typeof documents)["\n  mutation Accept($input: AcceptResolutionInput!) {\n    acceptResolution(input: $input) { ...ActionResult }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Withdraw($input: WithdrawResolutionInput!) {\n    withdrawResolution(input: $input) { ...ActionResult }\n  }\n"): (typeof documents)["\n  mutation Withdraw($input: WithdrawResolutionInput!) {\n    withdrawResolution(input: $input) { ...ActionResult }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RequestBuyerInfo($input: ResolutionMessageInput!) {\n    requestBuyerInfo(input: $input) { ...ActionResult }\n  }\n"): (typeof documents)["\n  mutation RequestBuyerInfo($input: ResolutionMessageInput!) {\n    requestBuyerInfo(input: $input) { ...ActionResult }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RequestMerchantInfo($input: ResolutionMessageInput!) {\n    requestMerchantInfo(input: $input) { ...ActionResult }\n  }\n"): (typeof documents)["\n  mutation RequestMerchantInfo($input: ResolutionMessageInput!) {\n    requestMerchantInfo(input: $input) { ...ActionResult }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation MerchantWins($input: DecideResolutionInput!) {\n    decideMerchantWins(input: $input) { ...ActionResult }\n  }\n"): (typeof documents)["\n  mutation MerchantWins($input: DecideResolutionInput!) {\n    decideMerchantWins(input: $input) { ...ActionResult }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation MerchantRefund($input: DecideResolutionInput!) {\n    decideMerchantRefund(input: $input) { ...ActionResult }\n  }\n"): (typeof documents)["\n  mutation MerchantRefund($input: DecideResolutionInput!) {\n    decideMerchantRefund(input: $input) { ...ActionResult }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ActionResult on ResolutionPayload {\n    resolution { id status version viewerActions dueDate }\n    event { ...TimelineEvent }\n    userErrors { code field message }\n  }\n"): (typeof documents)["\n  fragment ActionResult on ResolutionPayload {\n    resolution { id status version viewerActions dueDate }\n    event { ...TimelineEvent }\n    userErrors { code field message }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;