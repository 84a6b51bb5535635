package db

import (
	"context"

	"github.com/uptrace/bun"

	"resolutioncenter/dispute"
)

// Reading whole case rows on PostgreSQL without bun's reflection: the SELECT is still
// built by bun (the scope, filter and keyset rules of resolutions.go stay the one copy),
// then sent through pgx with binary results and decoded here. A page of cases is the
// first read of every list, and bun's scanning was the largest part of its cost.

// caseColumns are resolutionRow's columns in the order bun selects them.
var caseColumns = []uint32{oidText, oidText, oidText, oidText, oidText, oidText, oidText, oidTimestamptz, oidTimestamptz,
	oidTimestamptz, oidBool, oidBool, oidText, oidText, oidText, oidInt4, oidBool, oidInt4, oidInt4}

// selectCases runs the case SELECT that build makes of bun's query on resolutions AS r.
func (d *DB) selectCases(ctx context.Context, build func(*bun.SelectQuery) *bun.SelectQuery) ([]resolutionRow, error) {
	if d.pool == nil {
		var rows []resolutionRow
		if err := build(d.bun.NewSelect().Model(&rows)).Scan(ctx); err != nil {
			return nil, mapErr(err)
		}
		return rows, nil
	}
	q := build(d.bun.NewSelect().Model((*resolutionRow)(nil)))
	query, err := q.AppendQuery(d.bun.QueryGen(), nil)
	if err != nil {
		return nil, err
	}
	var rows []resolutionRow
	st := &pgStatement{sql: string(query), oids: caseColumns}
	err = d.pgRun(ctx, []pgQueued{{st: st, row: func(v [][]byte) error {
		rows = append(rows, resolutionRow{ID: string(v[0]), Status: intern(v[1], statusNames), Issue: intern(v[2], issueNames),
			CompanyID: string(v[3]), UserID: string(v[4]), PaymentID: string(v[5]), MemberID: string(v[6]),
			CreatedAt: pgTime(v[7]), UpdatedAt: pgTime(v[8]), DueDate: pgTime(v[9]),
			CustomerAppealed: pgBool(v[10]), MerchantAppealed: pgBool(v[11]), Outcome: intern(v[12], outcomeNames),
			Refund: intern(v[13], refundNames), DecidedBy: intern(v[14], actorNames), InfoRequests: int(pgInt4(v[15])),
			PaymentRefunded: pgBool(v[16]), Version: int(pgInt4(v[17])), EventCount: int(pgInt4(v[18]))})
		return nil
	}}})
	return rows, mapErr(err)
}

// The domain's wire names, to decode them without allocating a string per row.
var (
	statusNames  = names(dispute.Statuses)
	issueNames   = names(dispute.Issues)
	outcomeNames = names([]dispute.Outcome{dispute.OutcomeCustomerWon, dispute.OutcomeMerchantWon, dispute.OutcomeWithdrawn})
	refundNames  = names([]dispute.Refund{dispute.RefundNone, dispute.RefundMerchant, dispute.RefundPlatform})
	actorNames   = names([]dispute.Actor{dispute.ActorCustomer, dispute.ActorMerchant, dispute.ActorPlatform, dispute.ActorSystem})
	eventNames   = names([]dispute.EventAction{dispute.EventCreated, dispute.EventResponded, dispute.EventAccepted,
		dispute.EventDenied, dispute.EventAppealed, dispute.EventWithdrew, dispute.EventRequestedMoreInfo, dispute.EventEscalated,
		dispute.EventDisputeOpened, dispute.EventDisputeCustomerWon, dispute.EventDisputeMerchantWon})
)

func names[T ~string](list []T) map[string]string {
	m := make(map[string]string, len(list))
	for _, v := range list {
		m[string(v)] = string(v)
	}
	return m
}

// intern returns b as a string, the shared copy when it is one of known.
func intern(b []byte, known map[string]string) string {
	if s, ok := known[string(b)]; ok {
		return s
	}
	return string(b)
}
