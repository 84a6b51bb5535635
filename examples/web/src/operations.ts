// Every operation the page sends. graphql-codegen's client preset reads the graphql()
// calls below and types them (src/gql/ is generated: npm run codegen).
import { graphql } from './gql';

export const ViewerQuery = graphql(`
  query Viewer {
    viewer {
      role
      scopes
      user { id name username }
      companies { id title }
    }
  }
`);

// The inbox: the cases waiting on the viewer (soonest deadline first), their exact
// total, and the summary's count over the same condition.
export const WaitingOnMeQuery = graphql(`
  query WaitingOnMe($first: Int!) {
    resolutions(first: $first, filter: { waitingOnMe: true }) {
      totalCount
      edges {
        node {
          id
          status
          issue
          dueDate
          company { title }
          user { name username }
          payment { total { amount currency } }
        }
      }
    }
    resolutionSummary {
      total
      open
      waitingOnMe
    }
  }
`);

export const CaseQuery = graphql(`
  query Case($id: ID!) {
    resolution(id: $id) {
      id
      status
      issue
      dueDate
      version
      viewerActions
      company { title }
      user { name username }
      payment { total { amount currency } }
    }
  }
`);

// The newest events (newest first); the page shows them oldest first and subscribes
// after the newest one's cursor, so no event falls between the two.
export const TimelineQuery = graphql(`
  query Timeline($id: ID!, $last: Int!) {
    resolution(id: $id) {
      id
      events(first: $last) {
        totalCount
        edges {
          cursor
          node { ...TimelineEvent }
        }
      }
    }
  }
`);

export const TimelineEventFragment = graphql(`
  fragment TimelineEvent on ResolutionEvent {
    id
    position
    action
    reporterType
    details
    fromStatus
    toStatus
    createdAt
  }
`);

export const EventAddedSubscription = graphql(`
  subscription EventAdded($id: ID!, $after: String) {
    resolutionEventAdded(resolutionId: $id, after: $after) {
      cursor
      node { ...TimelineEvent }
    }
  }
`);

// The case's own changes (status, deadline, version, the viewer's actions), as they commit.
export const CaseUpdatedSubscription = graphql(`
  subscription CaseUpdated($id: ID!) {
    resolutionUpdated(filter: { resolutionIds: [$id] }) {
      id
      status
      dueDate
      version
      viewerActions
    }
  }
`);

// One mutation per action a viewer may be offered (Resolution.viewerActions). They take
// the same input: the case, the message, and the version the viewer saw.
export const RespondMutation = graphql(`
  mutation Respond($input: ResolutionMessageInput!) {
    respondToResolution(input: $input) { ...ActionResult }
  }
`);
export const RequestMoreInfoMutation = graphql(`
  mutation RequestMoreInfo($input: ResolutionMessageInput!) {
    requestMoreInfo(input: $input) { ...ActionResult }
  }
`);
export const AppealMutation = graphql(`
  mutation Appeal($input: ResolutionMessageInput!) {
    appealResolution(input: $input) { ...ActionResult }
  }
`);
export const DenyMutation = graphql(`
  mutation Deny($input: DenyResolutionInput!) {
    denyResolution(input: $input) { ...ActionResult }
  }
`);
export const AcceptMutation = graphql(`
  mutation Accept($input: AcceptResolutionInput!) {
    acceptResolution(input: $input) { ...ActionResult }
  }
`);
export const WithdrawMutation = graphql(`
  mutation Withdraw($input: WithdrawResolutionInput!) {
    withdrawResolution(input: $input) { ...ActionResult }
  }
`);
export const RequestBuyerInfoMutation = graphql(`
  mutation RequestBuyerInfo($input: ResolutionMessageInput!) {
    requestBuyerInfo(input: $input) { ...ActionResult }
  }
`);
export const RequestMerchantInfoMutation = graphql(`
  mutation RequestMerchantInfo($input: ResolutionMessageInput!) {
    requestMerchantInfo(input: $input) { ...ActionResult }
  }
`);
export const MerchantWinsMutation = graphql(`
  mutation MerchantWins($input: DecideResolutionInput!) {
    decideMerchantWins(input: $input) { ...ActionResult }
  }
`);
export const MerchantRefundMutation = graphql(`
  mutation MerchantRefund($input: DecideResolutionInput!) {
    decideMerchantRefund(input: $input) { ...ActionResult }
  }
`);

export const ActionResultFragment = graphql(`
  fragment ActionResult on ResolutionPayload {
    resolution { id status version viewerActions dueDate }
    event { ...TimelineEvent }
    userErrors { code field message }
  }
`);
