/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
/** Accept the case and refund the customer in full (merchant). */
export type AcceptResolutionInput = {
  /** Act only if the case is still at this version; otherwise CONFLICT. */
  expectedVersion?: number | null | undefined;
  /** Retrying with the same key within 24 hours returns the first result and changes nothing. */
  idempotencyKey?: string | null | undefined;
  /** A note to the customer, optionally: at most 10,000 characters. */
  message?: string | null | undefined;
  /** The case. */
  resolutionId: string | number;
  /** Also cancel the customer's membership the payment belongs to. */
  terminateMembership?: boolean | null | undefined;
};

/** Decide a case (platform). */
export type DecideResolutionInput = {
  /** Act only if the case is still at this version; otherwise CONFLICT. */
  expectedVersion?: number | null | undefined;
  /** Retrying with the same key within 24 hours returns the first result and changes nothing. */
  idempotencyKey?: string | null | undefined;
  /** The reasoning, optionally: at most 10,000 characters. */
  message?: string | null | undefined;
  /** The case. */
  resolutionId: string | number;
};

/** Deny the case (merchant). */
export type DenyResolutionInput = {
  /** Act only if the case is still at this version; otherwise CONFLICT. */
  expectedVersion?: number | null | undefined;
  /** Retrying with the same key within 24 hours returns the first result and changes nothing. */
  idempotencyKey?: string | null | undefined;
  /** Why: 1 to 10,000 characters, not blank. */
  message: string;
  /** The case. */
  resolutionId: string | number;
};

/** Who caused a timeline event. */
export type ReporterType =
  /** The customer who opened the case. */
  | 'CUSTOMER'
  /** The merchant (a team member of the company or its API key). */
  | 'MERCHANT'
  /** Platform staff. */
  | 'PLATFORM'
  /** The server itself, e.g. when a deadline passes. */
  | 'SYSTEM';

/** Any action on a case, as offered to the viewer in `Resolution.viewerActions`. */
export type ResolutionAction =
  /** Merchant: accept and refund. */
  | 'ACCEPT'
  /** Customer or merchant: appeal the decision. */
  | 'APPEAL'
  /** Merchant: deny. */
  | 'DENY'
  /** Platform: decide for the customer with a merchant refund. */
  | 'MERCHANT_REFUND'
  /** Platform: decide for the merchant. */
  | 'MERCHANT_WINS'
  /** Platform: ask the customer for information. */
  | 'REQUEST_BUYER_INFO'
  /** Platform: ask the merchant for information. */
  | 'REQUEST_MERCHANT_INFO'
  /** Merchant: ask the customer for more information. */
  | 'REQUEST_MORE_INFO'
  /** Customer or merchant: add a message. */
  | 'RESPOND'
  /** Customer: withdraw the case. */
  | 'WITHDRAW';

/** What a timeline event records. */
export type ResolutionEventAction =
  /** The case was decided for the customer with a refund. */
  | 'ACCEPTED'
  /** A party appealed the decision. */
  | 'APPEALED'
  /** The customer opened the case. */
  | 'CREATED'
  /** The case was decided for the merchant. */
  | 'DENIED'
  /** Informational: the chargeback was decided for the customer. */
  | 'DISPUTE_CUSTOMER_WON'
  /** Informational: the chargeback was decided for the merchant. */
  | 'DISPUTE_MERCHANT_WON'
  /** Informational: the card network opened a chargeback. */
  | 'DISPUTE_OPENED'
  /** A deadline passed and the case went to the platform. */
  | 'ESCALATED'
  /** A party asked for more information. */
  | 'REQUESTED_MORE_INFO'
  /** A party added a message. */
  | 'RESPONDED'
  /** The customer withdrew the case. */
  | 'WITHDREW';

/** What the customer says went wrong with the payment. */
export type ResolutionIssue =
  /** The customer forgot to cancel a subscription. */
  | 'FORGOT_TO_CANCEL'
  /** The item never arrived. */
  | 'ITEM_NOT_RECEIVED'
  /** The product is unacceptable. */
  | 'PRODUCT_UNACCEPTABLE'
  /** The item differs significantly from its description. */
  | 'SIGNIFICANTLY_NOT_AS_DESCRIBED'
  /** The customer did not authorize the payment. */
  | 'UNAUTHORIZED_TRANSACTION';

/** Ask for something from the other side, or add a message (see each mutation). */
export type ResolutionMessageInput = {
  /** Act only if the case is still at this version; otherwise CONFLICT. */
  expectedVersion?: number | null | undefined;
  /** Retrying with the same key within 24 hours returns the first result and changes nothing. */
  idempotencyKey?: string | null | undefined;
  /** The message: 1 to 10,000 characters, not blank. */
  message: string;
  /** The case. */
  resolutionId: string | number;
};

/** Where a case stands. The first five are open, the last three closed. */
export type ResolutionStatus =
  /** The platform asked the customer for information; the customer must answer before the deadline. */
  | 'CUSTOMER_INFO_NEEDED'
  /** The customer must answer before the deadline, or the merchant wins. */
  | 'CUSTOMER_RESPONSE_NEEDED'
  /** Closed: the customer withdrew the case. */
  | 'CUSTOMER_WITHDREW'
  /** Closed: the customer won and was refunded. */
  | 'CUSTOMER_WON'
  /** The platform asked the merchant for information; the merchant must answer before the deadline. */
  | 'MERCHANT_INFO_NEEDED'
  /** The merchant must answer before the deadline, or the case escalates to the platform. */
  | 'MERCHANT_RESPONSE_NEEDED'
  /** Closed: the merchant won. */
  | 'MERCHANT_WON'
  /** The platform is reviewing the case; no deadline runs. */
  | 'UNDER_PLATFORM_REVIEW';

/** What a token may do. */
export type Scope =
  /** Act: every mutation needs this scope. */
  | 'MANAGE'
  /** Read what the principal may see. */
  | 'READ';

/** Why a mutation was refused. Refusals the caller cannot fix by changing the input (authentication, permission, an unknown or hidden ID, outages) are top-level errors instead. */
export type UserErrorCode =
  /** The lifecycle does not allow this action now; `allowedActions` lists what does. */
  | 'ACTION_NOT_ALLOWED'
  /** Something unique already exists (a case on this payment, a company route, a username). */
  | 'ALREADY_EXISTS'
  /** The case moved on since `expectedVersion`, or an idempotency key was reused with another input. */
  | 'CONFLICT'
  /** An input value is malformed or out of range; `field` names it. */
  | 'INVALID_ARGUMENT'
  /** A counted action is used up (e.g. `requestMoreInfo`); `allowedActions` lists what is left. */
  | 'LIMIT_REACHED'
  /** The payment cannot be disputed or refunded (already refunded, or not paid). */
  | 'NOT_REFUNDABLE';

/** The role a token acts in. */
export type ViewerRole =
  /** A company API key: the merchant of that company. */
  | 'COMPANY'
  /** Platform staff: sees and moderates everything. */
  | 'PLATFORM'
  /** A user: a customer on their own cases, a merchant on the cases of companies they are a team member of. */
  | 'USER';

/** Withdraw your case (customer). */
export type WithdrawResolutionInput = {
  /** Act only if the case is still at this version; otherwise CONFLICT. */
  expectedVersion?: number | null | undefined;
  /** Retrying with the same key within 24 hours returns the first result and changes nothing. */
  idempotencyKey?: string | null | undefined;
  /** Why, optionally: at most 10,000 characters. */
  message?: string | null | undefined;
  /** The case. */
  resolutionId: string | number;
};

export type ViewerQueryVariables = Exact<{ [key: string]: never; }>;


export type ViewerQuery = { viewer: { role: ViewerRole, scopes: Array<Scope>, user: { id: string, name: string | null, username: string } | null, companies: Array<{ id: string, title: string }> } };

export type WaitingOnMeQueryVariables = Exact<{
  first: number;
}>;


export type WaitingOnMeQuery = { resolutions: { totalCount: number, edges: Array<{ node: { id: string, status: ResolutionStatus, issue: ResolutionIssue, dueDate: string | null, company: { title: string } | null, user: { name: string | null, username: string }, payment: { total: { amount: string, currency: string } } } }> }, resolutionSummary: { total: number, open: number, waitingOnMe: number } };

export type CaseQueryVariables = Exact<{
  id: string | number;
}>;


export type CaseQuery = { resolution: { id: string, status: ResolutionStatus, issue: ResolutionIssue, dueDate: string | null, version: number, viewerActions: Array<ResolutionAction>, company: { title: string } | null, user: { name: string | null, username: string }, payment: { total: { amount: string, currency: string } } } | null };

export type TimelineQueryVariables = Exact<{
  id: string | number;
  last: number;
}>;


export type TimelineQuery = { resolution: { id: string, events: { totalCount: number, edges: Array<{ cursor: string, node: { id: string, position: number, action: ResolutionEventAction, reporterType: ReporterType, details: string | null, fromStatus: ResolutionStatus, toStatus: ResolutionStatus, createdAt: string } }> } } | null };

export type TimelineEventFragment = { id: string, position: number, action: ResolutionEventAction, reporterType: ReporterType, details: string | null, fromStatus: ResolutionStatus, toStatus: ResolutionStatus, createdAt: string };

export type EventAddedSubscriptionVariables = Exact<{
  id: string | number;
  after?: string | null | undefined;
}>;


export type EventAddedSubscription = { resolutionEventAdded: { cursor: string, node: { id: string, position: number, action: ResolutionEventAction, reporterType: ReporterType, details: string | null, fromStatus: ResolutionStatus, toStatus: ResolutionStatus, createdAt: string } } };

export type CaseUpdatedSubscriptionVariables = Exact<{
  id: string | number;
}>;


export type CaseUpdatedSubscription = { resolutionUpdated: { id: string, status: ResolutionStatus, dueDate: string | null, version: number, viewerActions: Array<ResolutionAction> } };

export type RespondMutationVariables = Exact<{
  input: ResolutionMessageInput;
}>;


export type RespondMutation = { respondToResolution: { resolution: { id: string, status: ResolutionStatus, version: number, viewerActions: Array<ResolutionAction>, dueDate: string | null } | null, event: { id: string, position: number, action: ResolutionEventAction, reporterType: ReporterType, details: string | null, fromStatus: ResolutionStatus, toStatus: ResolutionStatus, createdAt: string } | null, userErrors: Array<{ code: UserErrorCode, field: string | null, message: string }> } };

export type RequestMoreInfoMutationVariables = Exact<{
  input: ResolutionMessageInput;
}>;


export type RequestMoreInfoMutation = { requestMoreInfo: { resolution: { id: string, status: ResolutionStatus, version: number, viewerActions: Array<ResolutionAction>, dueDate: string | null } | null, event: { id: string, position: number, action: ResolutionEventAction, reporterType: ReporterType, details: string | null, fromStatus: ResolutionStatus, toStatus: ResolutionStatus, createdAt: string } | null, userErrors: Array<{ code: UserErrorCode, field: string | null, message: string }> } };

export type AppealMutationVariables = Exact<{
  input: ResolutionMessageInput;
}>;


export type AppealMutation = { appealResolution: { resolution: { id: string, status: ResolutionStatus, version: number, viewerActions: Array<ResolutionAction>, dueDate: string | null } | null, event: { id: string, position: number, action: ResolutionEventAction, reporterType: ReporterType, details: string | null, fromStatus: ResolutionStatus, toStatus: ResolutionStatus, createdAt: string } | null, userErrors: Array<{ code: UserErrorCode, field: string | null, message: string }> } };

export type DenyMutationVariables = Exact<{
  input: DenyResolutionInput;
}>;


export type DenyMutation = { denyResolution: { resolution: { id: string, status: ResolutionStatus, version: number, viewerActions: Array<ResolutionAction>, dueDate: string | null } | null, event: { id: string, position: number, action: ResolutionEventAction, reporterType: ReporterType, details: string | null, fromStatus: ResolutionStatus, toStatus: ResolutionStatus, createdAt: string } | null, userErrors: Array<{ code: UserErrorCode, field: string | null, message: string }> } };

export type AcceptMutationVariables = Exact<{
  input: AcceptResolutionInput;
}>;


export type AcceptMutation = { acceptResolution: { resolution: { id: string, status: ResolutionStatus, version: number, viewerActions: Array<ResolutionAction>, dueDate: string | null } | null, event: { id: string, position: number, action: ResolutionEventAction, reporterType: ReporterType, details: string | null, fromStatus: ResolutionStatus, toStatus: ResolutionStatus, createdAt: string } | null, userErrors: Array<{ code: UserErrorCode, field: string | null, message: string }> } };

export type WithdrawMutationVariables = Exact<{
  input: WithdrawResolutionInput;
}>;


export type WithdrawMutation = { withdrawResolution: { resolution: { id: string, status: ResolutionStatus, version: number, viewerActions: Array<ResolutionAction>, dueDate: string | null } | null, event: { id: string, position: number, action: ResolutionEventAction, reporterType: ReporterType, details: string | null, fromStatus: ResolutionStatus, toStatus: ResolutionStatus, createdAt: string } | null, userErrors: Array<{ code: UserErrorCode, field: string | null, message: string }> } };

export type RequestBuyerInfoMutationVariables = Exact<{
  input: ResolutionMessageInput;
}>;


export type RequestBuyerInfoMutation = { requestBuyerInfo: { resolution: { id: string, status: ResolutionStatus, version: number, viewerActions: Array<ResolutionAction>, dueDate: string | null } | null, event: { id: string, position: number, action: ResolutionEventAction, reporterType: ReporterType, details: string | null, fromStatus: ResolutionStatus, toStatus: ResolutionStatus, createdAt: string } | null, userErrors: Array<{ code: UserErrorCode, field: string | null, message: string }> } };

export type RequestMerchantInfoMutationVariables = Exact<{
  input: ResolutionMessageInput;
}>;


export type RequestMerchantInfoMutation = { requestMerchantInfo: { resolution: { id: string, status: ResolutionStatus, version: number, viewerActions: Array<ResolutionAction>, dueDate: string | null } | null, event: { id: string, position: number, action: ResolutionEventAction, reporterType: ReporterType, details: string | null, fromStatus: ResolutionStatus, toStatus: ResolutionStatus, createdAt: string } | null, userErrors: Array<{ code: UserErrorCode, field: string | null, message: string }> } };

export type MerchantWinsMutationVariables = Exact<{
  input: DecideResolutionInput;
}>;


export type MerchantWinsMutation = { decideMerchantWins: { resolution: { id: string, status: ResolutionStatus, version: number, viewerActions: Array<ResolutionAction>, dueDate: string | null } | null, event: { id: string, position: number, action: ResolutionEventAction, reporterType: ReporterType, details: string | null, fromStatus: ResolutionStatus, toStatus: ResolutionStatus, createdAt: string } | null, userErrors: Array<{ code: UserErrorCode, field: string | null, message: string }> } };

export type MerchantRefundMutationVariables = Exact<{
  input: DecideResolutionInput;
}>;


export type MerchantRefundMutation = { decideMerchantRefund: { resolution: { id: string, status: ResolutionStatus, version: number, viewerActions: Array<ResolutionAction>, dueDate: string | null } | null, event: { id: string, position: number, action: ResolutionEventAction, reporterType: ReporterType, details: string | null, fromStatus: ResolutionStatus, toStatus: ResolutionStatus, createdAt: string } | null, userErrors: Array<{ code: UserErrorCode, field: string | null, message: string }> } };

export type ActionResultFragment = { resolution: { id: string, status: ResolutionStatus, version: number, viewerActions: Array<ResolutionAction>, dueDate: string | null } | null, event: { id: string, position: number, action: ResolutionEventAction, reporterType: ReporterType, details: string | null, fromStatus: ResolutionStatus, toStatus: ResolutionStatus, createdAt: string } | null, userErrors: Array<{ code: UserErrorCode, field: string | null, message: string }> };

export const TimelineEventFragmentDoc = {"kind":"Document","definitions":[{"kind":"FragmentDefinition","name":{"kind":"Name","value":"TimelineEvent"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ResolutionEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"position"}},{"kind":"Field","name":{"kind":"Name","value":"action"}},{"kind":"Field","name":{"kind":"Name","value":"reporterType"}},{"kind":"Field","name":{"kind":"Name","value":"details"}},{"kind":"Field","name":{"kind":"Name","value":"fromStatus"}},{"kind":"Field","name":{"kind":"Name","value":"toStatus"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}}]}}]} as unknown as DocumentNode<TimelineEventFragment, unknown>;
export const ActionResultFragmentDoc = {"kind":"Document","definitions":[{"kind":"FragmentDefinition","name":{"kind":"Name","value":"ActionResult"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ResolutionPayload"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"resolution"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"viewerActions"}},{"kind":"Field","name":{"kind":"Name","value":"dueDate"}}]}},{"kind":"Field","name":{"kind":"Name","value":"event"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"TimelineEvent"}}]}},{"kind":"Field","name":{"kind":"Name","value":"userErrors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"field"}},{"kind":"Field","name":{"kind":"Name","value":"message"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"TimelineEvent"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ResolutionEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"position"}},{"kind":"Field","name":{"kind":"Name","value":"action"}},{"kind":"Field","name":{"kind":"Name","value":"reporterType"}},{"kind":"Field","name":{"kind":"Name","value":"details"}},{"kind":"Field","name":{"kind":"Name","value":"fromStatus"}},{"kind":"Field","name":{"kind":"Name","value":"toStatus"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}}]}}]} as unknown as DocumentNode<ActionResultFragment, unknown>;
export const ViewerDocument = {"__meta__":{"hash":"sha256:7090f110dd10d52da7ee3336bd902a8abd4afcd6804f80b5c6bc5937f36847f6"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Viewer"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"viewer"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"role"}},{"kind":"Field","name":{"kind":"Name","value":"scopes"}},{"kind":"Field","name":{"kind":"Name","value":"user"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"username"}}]}},{"kind":"Field","name":{"kind":"Name","value":"companies"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"title"}}]}}]}}]}}]} as unknown as DocumentNode<ViewerQuery, ViewerQueryVariables>;
export const WaitingOnMeDocument = {"__meta__":{"hash":"sha256:33f8f1dd7eae68bf35e18e2676d6eb071db4f53ab5c03b3a1698bc1dcb7e4f1a"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"WaitingOnMe"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"resolutions"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"waitingOnMe"},"value":{"kind":"BooleanValue","value":true}}]}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"issue"}},{"kind":"Field","name":{"kind":"Name","value":"dueDate"}},{"kind":"Field","name":{"kind":"Name","value":"company"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"title"}}]}},{"kind":"Field","name":{"kind":"Name","value":"user"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"username"}}]}},{"kind":"Field","name":{"kind":"Name","value":"payment"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"total"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currency"}}]}}]}}]}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"resolutionSummary"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"total"}},{"kind":"Field","name":{"kind":"Name","value":"open"}},{"kind":"Field","name":{"kind":"Name","value":"waitingOnMe"}}]}}]}}]} as unknown as DocumentNode<WaitingOnMeQuery, WaitingOnMeQueryVariables>;
export const CaseDocument = {"__meta__":{"hash":"sha256:8b1d04ae8777a4def66e47cd4bb298b2cefb6dd256173ae2c7ac09a0e4046364"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Case"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"resolution"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"issue"}},{"kind":"Field","name":{"kind":"Name","value":"dueDate"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"viewerActions"}},{"kind":"Field","name":{"kind":"Name","value":"company"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"title"}}]}},{"kind":"Field","name":{"kind":"Name","value":"user"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"username"}}]}},{"kind":"Field","name":{"kind":"Name","value":"payment"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"total"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currency"}}]}}]}}]}}]}}]} as unknown as DocumentNode<CaseQuery, CaseQueryVariables>;
export const TimelineDocument = {"__meta__":{"hash":"sha256:6f319eebbf304b65f45e5569a0f7be4ceaca6f6232fdbe1cc3c5fe919d50dd77"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Timeline"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"last"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"resolution"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"events"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"last"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cursor"}},{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"TimelineEvent"}}]}}]}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"TimelineEvent"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ResolutionEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"position"}},{"kind":"Field","name":{"kind":"Name","value":"action"}},{"kind":"Field","name":{"kind":"Name","value":"reporterType"}},{"kind":"Field","name":{"kind":"Name","value":"details"}},{"kind":"Field","name":{"kind":"Name","value":"fromStatus"}},{"kind":"Field","name":{"kind":"Name","value":"toStatus"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}}]}}]} as unknown as DocumentNode<TimelineQuery, TimelineQueryVariables>;
export const EventAddedDocument = {"__meta__":{"hash":"sha256:ed879d38deaf0d765353d43e46c6be10f0816486b5e7d901a4d078eac6b35d1d"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"EventAdded"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"resolutionEventAdded"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"resolutionId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cursor"}},{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"TimelineEvent"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"TimelineEvent"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ResolutionEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"position"}},{"kind":"Field","name":{"kind":"Name","value":"action"}},{"kind":"Field","name":{"kind":"Name","value":"reporterType"}},{"kind":"Field","name":{"kind":"Name","value":"details"}},{"kind":"Field","name":{"kind":"Name","value":"fromStatus"}},{"kind":"Field","name":{"kind":"Name","value":"toStatus"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}}]}}]} as unknown as DocumentNode<EventAddedSubscription, EventAddedSubscriptionVariables>;
export const CaseUpdatedDocument = {"__meta__":{"hash":"sha256:2f5a21a3140dc6e633e807b43c1c9d7ba13c4505ae5326a188782c1b6d4caa6c"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"CaseUpdated"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"resolutionUpdated"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"resolutionIds"},"value":{"kind":"ListValue","values":[{"kind":"Variable","name":{"kind":"Name","value":"id"}}]}}]}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"dueDate"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"viewerActions"}}]}}]}}]} as unknown as DocumentNode<CaseUpdatedSubscription, CaseUpdatedSubscriptionVariables>;
export const RespondDocument = {"__meta__":{"hash":"sha256:b59353af768084a8fbe33bcb9d149d30003b15bd14ab896bdc952fa8601b8fd8"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"Respond"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ResolutionMessageInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"respondToResolution"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"ActionResult"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"TimelineEvent"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ResolutionEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"position"}},{"kind":"Field","name":{"kind":"Name","value":"action"}},{"kind":"Field","name":{"kind":"Name","value":"reporterType"}},{"kind":"Field","name":{"kind":"Name","value":"details"}},{"kind":"Field","name":{"kind":"Name","value":"fromStatus"}},{"kind":"Field","name":{"kind":"Name","value":"toStatus"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"ActionResult"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ResolutionPayload"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"resolution"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"viewerActions"}},{"kind":"Field","name":{"kind":"Name","value":"dueDate"}}]}},{"kind":"Field","name":{"kind":"Name","value":"event"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"TimelineEvent"}}]}},{"kind":"Field","name":{"kind":"Name","value":"userErrors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"field"}},{"kind":"Field","name":{"kind":"Name","value":"message"}}]}}]}}]} as unknown as DocumentNode<RespondMutation, RespondMutationVariables>;
export const RequestMoreInfoDocument = {"__meta__":{"hash":"sha256:5421b2947fc0555bd724d308a9f5f369f24acd110660dc0d345ce39be26fbe82"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"RequestMoreInfo"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ResolutionMessageInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"requestMoreInfo"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"ActionResult"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"TimelineEvent"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ResolutionEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"position"}},{"kind":"Field","name":{"kind":"Name","value":"action"}},{"kind":"Field","name":{"kind":"Name","value":"reporterType"}},{"kind":"Field","name":{"kind":"Name","value":"details"}},{"kind":"Field","name":{"kind":"Name","value":"fromStatus"}},{"kind":"Field","name":{"kind":"Name","value":"toStatus"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"ActionResult"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ResolutionPayload"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"resolution"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"viewerActions"}},{"kind":"Field","name":{"kind":"Name","value":"dueDate"}}]}},{"kind":"Field","name":{"kind":"Name","value":"event"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"TimelineEvent"}}]}},{"kind":"Field","name":{"kind":"Name","value":"userErrors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"field"}},{"kind":"Field","name":{"kind":"Name","value":"message"}}]}}]}}]} as unknown as DocumentNode<RequestMoreInfoMutation, RequestMoreInfoMutationVariables>;
export const AppealDocument = {"__meta__":{"hash":"sha256:18efbf21324d15083e9684c585424d1f99ae8094276f523c9f58907c483440c4"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"Appeal"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ResolutionMessageInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"appealResolution"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"ActionResult"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"TimelineEvent"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ResolutionEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"position"}},{"kind":"Field","name":{"kind":"Name","value":"action"}},{"kind":"Field","name":{"kind":"Name","value":"reporterType"}},{"kind":"Field","name":{"kind":"Name","value":"details"}},{"kind":"Field","name":{"kind":"Name","value":"fromStatus"}},{"kind":"Field","name":{"kind":"Name","value":"toStatus"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"ActionResult"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ResolutionPayload"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"resolution"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"viewerActions"}},{"kind":"Field","name":{"kind":"Name","value":"dueDate"}}]}},{"kind":"Field","name":{"kind":"Name","value":"event"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"TimelineEvent"}}]}},{"kind":"Field","name":{"kind":"Name","value":"userErrors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"field"}},{"kind":"Field","name":{"kind":"Name","value":"message"}}]}}]}}]} as unknown as DocumentNode<AppealMutation, AppealMutationVariables>;
export const DenyDocument = {"__meta__":{"hash":"sha256:74b4fb6b38355447b36e7d24dbedc18fb5eac7e3b25aa4c6a3fca8e89e4a7d0c"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"Deny"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"DenyResolutionInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"denyResolution"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"ActionResult"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"TimelineEvent"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ResolutionEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"position"}},{"kind":"Field","name":{"kind":"Name","value":"action"}},{"kind":"Field","name":{"kind":"Name","value":"reporterType"}},{"kind":"Field","name":{"kind":"Name","value":"details"}},{"kind":"Field","name":{"kind":"Name","value":"fromStatus"}},{"kind":"Field","name":{"kind":"Name","value":"toStatus"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"ActionResult"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ResolutionPayload"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"resolution"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"viewerActions"}},{"kind":"Field","name":{"kind":"Name","value":"dueDate"}}]}},{"kind":"Field","name":{"kind":"Name","value":"event"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"TimelineEvent"}}]}},{"kind":"Field","name":{"kind":"Name","value":"userErrors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"field"}},{"kind":"Field","name":{"kind":"Name","value":"message"}}]}}]}}]} as unknown as DocumentNode<DenyMutation, DenyMutationVariables>;
export const AcceptDocument = {"__meta__":{"hash":"sha256:481787dabdccb327eff18b3661a47e12afbbd9d4e13bbcf07af3a724027155f9"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"Accept"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"AcceptResolutionInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"acceptResolution"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"ActionResult"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"TimelineEvent"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ResolutionEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"position"}},{"kind":"Field","name":{"kind":"Name","value":"action"}},{"kind":"Field","name":{"kind":"Name","value":"reporterType"}},{"kind":"Field","name":{"kind":"Name","value":"details"}},{"kind":"Field","name":{"kind":"Name","value":"fromStatus"}},{"kind":"Field","name":{"kind":"Name","value":"toStatus"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"ActionResult"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ResolutionPayload"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"resolution"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"viewerActions"}},{"kind":"Field","name":{"kind":"Name","value":"dueDate"}}]}},{"kind":"Field","name":{"kind":"Name","value":"event"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"TimelineEvent"}}]}},{"kind":"Field","name":{"kind":"Name","value":"userErrors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"field"}},{"kind":"Field","name":{"kind":"Name","value":"message"}}]}}]}}]} as unknown as DocumentNode<AcceptMutation, AcceptMutationVariables>;
export const WithdrawDocument = {"__meta__":{"hash":"sha256:f21f36b3e7a398f23c81378450d177855d5956de4cd8747f4d4a65ca64b39848"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"Withdraw"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"WithdrawResolutionInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"withdrawResolution"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"ActionResult"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"TimelineEvent"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ResolutionEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"position"}},{"kind":"Field","name":{"kind":"Name","value":"action"}},{"kind":"Field","name":{"kind":"Name","value":"reporterType"}},{"kind":"Field","name":{"kind":"Name","value":"details"}},{"kind":"Field","name":{"kind":"Name","value":"fromStatus"}},{"kind":"Field","name":{"kind":"Name","value":"toStatus"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"ActionResult"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ResolutionPayload"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"resolution"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"viewerActions"}},{"kind":"Field","name":{"kind":"Name","value":"dueDate"}}]}},{"kind":"Field","name":{"kind":"Name","value":"event"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"TimelineEvent"}}]}},{"kind":"Field","name":{"kind":"Name","value":"userErrors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"field"}},{"kind":"Field","name":{"kind":"Name","value":"message"}}]}}]}}]} as unknown as DocumentNode<WithdrawMutation, WithdrawMutationVariables>;
export const RequestBuyerInfoDocument = {"__meta__":{"hash":"sha256:e083a954e3da85393b5f6194d204731c4ffa773bb75713920a23f42bcb10b64e"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"RequestBuyerInfo"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ResolutionMessageInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"requestBuyerInfo"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"ActionResult"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"TimelineEvent"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ResolutionEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"position"}},{"kind":"Field","name":{"kind":"Name","value":"action"}},{"kind":"Field","name":{"kind":"Name","value":"reporterType"}},{"kind":"Field","name":{"kind":"Name","value":"details"}},{"kind":"Field","name":{"kind":"Name","value":"fromStatus"}},{"kind":"Field","name":{"kind":"Name","value":"toStatus"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"ActionResult"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ResolutionPayload"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"resolution"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"viewerActions"}},{"kind":"Field","name":{"kind":"Name","value":"dueDate"}}]}},{"kind":"Field","name":{"kind":"Name","value":"event"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"TimelineEvent"}}]}},{"kind":"Field","name":{"kind":"Name","value":"userErrors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"field"}},{"kind":"Field","name":{"kind":"Name","value":"message"}}]}}]}}]} as unknown as DocumentNode<RequestBuyerInfoMutation, RequestBuyerInfoMutationVariables>;
export const RequestMerchantInfoDocument = {"__meta__":{"hash":"sha256:6f1eb7e01ca00061acc52ec603626f0c32b917237bde380bef67f8225c36ed7b"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"RequestMerchantInfo"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ResolutionMessageInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"requestMerchantInfo"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"ActionResult"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"TimelineEvent"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ResolutionEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"position"}},{"kind":"Field","name":{"kind":"Name","value":"action"}},{"kind":"Field","name":{"kind":"Name","value":"reporterType"}},{"kind":"Field","name":{"kind":"Name","value":"details"}},{"kind":"Field","name":{"kind":"Name","value":"fromStatus"}},{"kind":"Field","name":{"kind":"Name","value":"toStatus"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"ActionResult"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ResolutionPayload"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"resolution"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"viewerActions"}},{"kind":"Field","name":{"kind":"Name","value":"dueDate"}}]}},{"kind":"Field","name":{"kind":"Name","value":"event"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"TimelineEvent"}}]}},{"kind":"Field","name":{"kind":"Name","value":"userErrors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"field"}},{"kind":"Field","name":{"kind":"Name","value":"message"}}]}}]}}]} as unknown as DocumentNode<RequestMerchantInfoMutation, RequestMerchantInfoMutationVariables>;
export const MerchantWinsDocument = {"__meta__":{"hash":"sha256:164b10cdc736ce4fe7362a8a4c21be1d508958b1fe5e28702c5676a8c54457b2"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"MerchantWins"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"DecideResolutionInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"decideMerchantWins"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"ActionResult"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"TimelineEvent"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ResolutionEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"position"}},{"kind":"Field","name":{"kind":"Name","value":"action"}},{"kind":"Field","name":{"kind":"Name","value":"reporterType"}},{"kind":"Field","name":{"kind":"Name","value":"details"}},{"kind":"Field","name":{"kind":"Name","value":"fromStatus"}},{"kind":"Field","name":{"kind":"Name","value":"toStatus"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"ActionResult"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ResolutionPayload"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"resolution"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"viewerActions"}},{"kind":"Field","name":{"kind":"Name","value":"dueDate"}}]}},{"kind":"Field","name":{"kind":"Name","value":"event"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"TimelineEvent"}}]}},{"kind":"Field","name":{"kind":"Name","value":"userErrors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"field"}},{"kind":"Field","name":{"kind":"Name","value":"message"}}]}}]}}]} as unknown as DocumentNode<MerchantWinsMutation, MerchantWinsMutationVariables>;
export const MerchantRefundDocument = {"__meta__":{"hash":"sha256:a983cbe31ff8a2df87ff503474525c340e25aa86da58e6ccb79dfcb22e590432"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"MerchantRefund"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"DecideResolutionInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"decideMerchantRefund"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"ActionResult"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"TimelineEvent"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ResolutionEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"position"}},{"kind":"Field","name":{"kind":"Name","value":"action"}},{"kind":"Field","name":{"kind":"Name","value":"reporterType"}},{"kind":"Field","name":{"kind":"Name","value":"details"}},{"kind":"Field","name":{"kind":"Name","value":"fromStatus"}},{"kind":"Field","name":{"kind":"Name","value":"toStatus"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"ActionResult"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ResolutionPayload"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"resolution"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"viewerActions"}},{"kind":"Field","name":{"kind":"Name","value":"dueDate"}}]}},{"kind":"Field","name":{"kind":"Name","value":"event"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"TimelineEvent"}}]}},{"kind":"Field","name":{"kind":"Name","value":"userErrors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"field"}},{"kind":"Field","name":{"kind":"Name","value":"message"}}]}}]}}]} as unknown as DocumentNode<MerchantRefundMutation, MerchantRefundMutationVariables>;