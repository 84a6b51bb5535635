package seed

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"resolutioncenter/db"
	"resolutioncenter/dispute"
	"resolutioncenter/ids"
)

const year = 365 * day

// The shape of the bulk data. Cases are created over the two years before Now, more
// of them recently (the platform grows); closed cases are spread over the whole range,
// open ones are recent, with their deadline still ahead (or under platform review).
const (
	historySpan  = 2 * year
	userSpan     = 5 * year // customers signed up over the five years before Now
	companiesAge = 6 * year // companies were created between six and five years ago
)

// targetWeights is how often each final status is chosen, in dispute.Statuses order.
var targetWeights = [8]float64{5, 4, 2, 2, 5, 31, 31, 20}

// issueWeights is how often each issue is chosen, in dispute.Issues order.
var issueWeights = [5]float64{20, 30, 22, 13, 15}

type currency struct {
	code     string
	weight   float64
	min, max float64 // price range in minor units
	step     int64   // prices are multiples of step (then maybe minus 1: 19.99)
	taxPct   int64
}

var currencies = []currency{
	{"USD", 50, 500, 60000, 50, 8},
	{"EUR", 25, 500, 60000, 50, 19},
	{"GBP", 15, 500, 50000, 50, 20},
	{"JPY", 10, 500, 80000, 10, 10},
}

// plan is what every batch needs: sizes, times, the walk table and the reference rows.
type plan struct {
	o    Options
	now  time.Time
	nb   int // number of batches
	walk *walkTable
	salt uint64 // rows already in the database; keeps IDs and names of a second run apart

	companyIDs  []string
	companyCur  []int // index in currencies
	customerIDs []string
	userStart   time.Time // customer j was created in [userStart + j*userStep, + userStep)
	userStep    time.Duration

	companies []db.Company
	users     []db.User
	team      []db.TeamMember
}

// batch holds the rows of one transaction.
type batch struct {
	index int
	cases int
	db.BulkBatch
	err error
}

// BulkWithStats is Bulk, returning what it wrote.
func BulkWithStats(ctx context.Context, d *db.DB, o Options, progress io.Writer) (Stats, error) {
	start := time.Now()
	if progress == nil {
		progress = io.Discard
	}
	if o.Cases < 0 {
		return Stats{}, errors.New("seed: negative number of cases")
	}
	w, err := newWalkTable(o.Policy)
	if err != nil {
		return Stats{}, err
	}
	salt, err := existingRows(ctx, d)
	if err != nil {
		return Stats{}, fmt.Errorf("seed: count existing rows: %w", err)
	}
	p := newPlan(o, w, salt)
	wr, err := d.NewBulkWriter(ctx)
	if err != nil {
		return Stats{}, err
	}
	defer wr.Close()

	var st Stats
	fmt.Fprintf(progress, "seed: %d companies, %d users, %d cases into %s (seed %d)\n",
		len(p.companies), len(p.users), p.o.Cases, d.URL, p.o.Seed)
	if err := wr.WriteReferences(ctx, p.companies, p.users, p.team); err != nil {
		return st, fmt.Errorf("seed: write companies and users: %w", err)
	}
	st.Companies, st.Users, st.TeamMembers = int64(len(p.companies)), int64(len(p.users)), int64(len(p.team))
	p.companies, p.users, p.team = nil, nil, nil

	// Batches are generated concurrently, a few ahead of the writers, handed over in
	// order, and written by one or more writers (one transaction each).
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	writers := wr.Parallel()
	futures := make(chan chan *batch, writers+1)
	go func() {
		defer close(futures)
		for j := 0; j < p.nb; j++ {
			f := make(chan *batch, 1)
			select {
			case futures <- f:
			case <-ctx.Done():
				return
			}
			go func(j int) { f <- p.batch(j) }(j)
		}
	}()
	batches := make(chan *batch)
	go func() {
		defer close(batches)
		for f := range futures {
			select {
			case b := <-f:
				select {
				case batches <- b:
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	var mu sync.Mutex
	last, reported := time.Now(), int64(-1)
	report := func(force bool) {
		if now := time.Now(); force && reported != st.Rows() || now.Sub(last) >= time.Second {
			last, reported = now, st.Rows()
			el := now.Sub(start)
			fmt.Fprintf(progress, "seed: %d/%d cases, %d events, %d rows in %s (%.0f rows/s)\n",
				st.Cases, p.o.Cases, st.Events, st.Rows(), el.Round(100*time.Millisecond), float64(st.Rows())/el.Seconds())
		}
	}
	var wg sync.WaitGroup
	for k := 0; k < writers; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				if b.err != nil {
					cancel(fmt.Errorf("seed: generate batch %d: %w", b.index, b.err))
					return
				}
				if err := wr.WriteBatch(ctx, &b.BulkBatch); err != nil {
					cancel(fmt.Errorf("seed: write batch %d: %w", b.index, err))
					return
				}
				mu.Lock()
				st.Memberships += int64(len(b.Memberships))
				st.Payments += int64(len(b.Payments))
				st.Cases += int64(len(b.Cases))
				st.Events += int64(len(b.Events))
				report(false)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return st, err
	}
	report(true)
	if err := wr.Finish(ctx); err != nil {
		return st, err
	}
	st.Elapsed = time.Since(start)
	return st, nil
}

// existingRows counts the users, companies and cases already stored.
func existingRows(ctx context.Context, d *db.DB) (uint64, error) {
	var n int64
	_, err := d.Raw(ctx, &n, "SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM companies) + (SELECT count(*) FROM resolutions)")
	return uint64(n), err
}

func newPlan(o Options, w *walkTable, salt uint64) *plan {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Companies <= 0 {
		o.Companies = min(max(o.Cases/2000, 5), 2000)
	}
	if o.Users <= 0 {
		o.Users = max(o.Cases/3, 20)
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 10000
	}
	p := &plan{o: o, now: ms(o.Now), walk: w, salt: salt}
	p.nb = (o.Cases + o.BatchSize - 1) / o.BatchSize
	r := rand.New(rand.NewPCG(uint64(o.Seed), 1<<63))
	ent := entropy(o.Seed, salt, -1)

	// Companies, oldest first.
	cStart := p.now.Add(-companiesAge)
	cStep := year / time.Duration(o.Companies)
	for i := 0; i < o.Companies; i++ {
		t := ms(cStart.Add(cStep*time.Duration(i) + time.Duration(r.Int64N(int64(cStep)))))
		title := companyFirst[r.IntN(len(companyFirst))] + " " + companySecond[r.IntN(len(companySecond))]
		route := slug(title) + "-" + strconv.FormatUint(salt+uint64(i)+1, 10)
		id := idAt(ids.Company, t, ent)
		p.companies = append(p.companies, db.Company{ID: id, Title: title, Route: route, CreatedAt: t})
		p.companyIDs = append(p.companyIDs, id)
		p.companyCur = append(p.companyCur, pickWeighted(r, len(currencies), func(i int) float64 { return currencies[i].weight }))
	}
	// Customers, oldest first, at most one per userStep, so the customers that exist
	// at a time t are a prefix of the list.
	p.userStart = p.now.Add(-userSpan)
	p.userStep = (userSpan - 7*day) / time.Duration(o.Users)
	n := salt + uint64(o.Companies) + 1
	for j := 0; j < o.Users; j++ {
		t := ms(p.userStart.Add(p.userStep*time.Duration(j) + time.Duration(r.Int64N(int64(p.userStep)))))
		u := newUser(r, n, t, "", ent)
		n++
		p.users = append(p.users, u)
		p.customerIDs = append(p.customerIDs, u.ID)
	}
	// Team members: staff users of their own, one to three per company.
	for _, c := range p.companies {
		for k := r.IntN(3); k >= 0; k-- {
			t := ms(c.CreatedAt.Add(time.Duration(r.Int64N(int64(4 * year)))))
			u := newUser(r, n, t, slug(c.Title)+".example", ent)
			n++
			p.users = append(p.users, u)
			p.team = append(p.team, db.TeamMember{CompanyID: c.ID, UserID: u.ID, CreatedAt: t})
		}
	}
	return p
}

// newUser makes a user numbered n (unique in the database), with an email at domain
// (a random example domain when empty).
func newUser(r *rand.Rand, n uint64, t time.Time, domain string, ent io.Reader) db.User {
	first, last := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
	username := slugDot(first) + "." + slugDot(last) + strconv.FormatUint(n, 10)
	u := db.User{ID: idAt(ids.User, t, ent), Username: username, CreatedAt: t}
	if r.IntN(20) > 0 { // one in twenty gave no name
		u.Name = first + " " + last
	}
	if domain == "" {
		u.Email = username + "@" + emailDomains[r.IntN(len(emailDomains))]
	} else {
		u.Email = slugDot(first) + "." + strconv.FormatUint(n, 10) + "@" + domain
	}
	return u
}

// entropy returns the deterministic entropy of the IDs of one batch (-1: the
// reference rows).
func entropy(seed int64, salt uint64, batch int) io.Reader {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[0:], uint64(seed))
	binary.LittleEndian.PutUint64(s[8:], salt)
	binary.LittleEndian.PutUint64(s[16:], uint64(int64(batch)))
	copy(s[24:], "rcseed!!")
	return rand.NewChaCha8(s)
}

// batch generates the cases of batch j. Each case draws from its own generator,
// seeded by the run's seed and the case's number, so the data does not depend on how
// the work is spread over goroutines.
func (p *plan) batch(j int) *batch {
	lo := j * p.o.BatchSize
	hi := min(lo+p.o.BatchSize, p.o.Cases)
	n := hi - lo
	b := &batch{index: j, cases: n, BulkBatch: db.BulkBatch{Memberships: make([]db.Membership, 0, n/3),
		Payments: make([]db.Payment, 0, n*2), Cases: make([]dispute.Case, 0, n), Events: make([]dispute.Event, 0, n*11)}}
	g := p.newCaseGen(j)
	for i := lo; i < hi; i++ {
		if err := g.generate(i, b); err != nil {
			b.err = fmt.Errorf("case %d: %w", i, err)
			return b
		}
	}
	// Insert in ID (creation time) order: the indexes' pages are then visited in order.
	b.Memberships = sortByID(b.Memberships, func(r *db.Membership) (time.Time, string) { return r.CreatedAt, r.ID })
	b.Payments = sortByID(b.Payments, func(r *db.Payment) (time.Time, string) { return r.CreatedAt, r.ID })
	b.Cases = sortByID(b.Cases, func(r *dispute.Case) (time.Time, string) { return r.CreatedAt, r.ID })
	b.Events = sortByID(b.Events, func(r *dispute.Event) (time.Time, string) { return r.CreatedAt, r.ID })
	return b
}

// sortByID returns rows sorted by ID, given each row's creation time (the ID's time
// part) and ID. It sorts keys by time first, comparing IDs only within a
// millisecond, and moves each (large) row once.
func sortByID[T any](rows []T, key func(*T) (time.Time, string)) []T {
	type k struct {
		ms int64
		i  int32
	}
	keys := make([]k, len(rows))
	for i := range rows {
		t, _ := key(&rows[i])
		keys[i] = k{t.UnixMilli(), int32(i)}
	}
	slices.SortFunc(keys, func(x, y k) int {
		if x.ms != y.ms {
			return cmp.Compare(x.ms, y.ms)
		}
		_, a := key(&rows[x.i])
		_, b := key(&rows[y.i])
		return strings.Compare(a, b)
	})
	out := make([]T, len(rows))
	for i, k := range keys {
		out[i] = rows[k.i]
	}
	return out
}

// caseGen generates cases; one per batch, not shared between goroutines.
type caseGen struct {
	p    *plan
	pcg  *rand.PCG
	r    *rand.Rand
	zipf *rand.Zipf
	ent  io.Reader
	tl   timeline
}

func (p *plan) newCaseGen(j int) *caseGen {
	pcg := rand.NewPCG(0, 0)
	r := rand.New(pcg)
	return &caseGen{p: p, pcg: pcg, r: r, ent: entropy(p.o.Seed, p.salt, j),
		zipf: rand.NewZipf(r, 1.15, 4, uint64(len(p.companyIDs)-1)), tl: timeline{p: p.o.Policy}}
}

// generate builds case i with its payment (and membership, renewals, another purchase)
// and appends the rows to b.
func (g *caseGen) generate(i int, b *batch) error {
	p, r := g.p, g.r
	g.pcg.Seed(uint64(p.o.Seed), uint64(i))
	issue := dispute.Issues[pickWeighted(r, len(issueWeights), func(k int) float64 { return issueWeights[k] })]
	target := pickWeighted(r, len(targetWeights), func(k int) float64 { return targetWeights[k] })
	events := 5 + min(r.IntN(16), r.IntN(16)) // 5..20, mostly short
	hasMember := issue == dispute.IssueForgotToCancel || r.IntN(5) == 0
	records := 0
	if (issue == dispute.IssueUnauthorizedTransaction && r.IntN(10) < 6) || r.IntN(50) == 0 {
		records = 1 // the bank opened a chargeback
	}
	outcomeRecord := records == 1 && !dispute.Statuses[target].Open() && r.IntN(2) == 0
	if outcomeRecord {
		records = 2 // and later decided it
	}
	moves := events - 1 - records
	recordBefore := -1
	if records > 0 {
		recordBefore = 1 + r.IntN(moves) // the chargeback comes before this move
	}

	// Play the case from Now; it is moved to its place in time afterwards.
	tl := &g.tl
	memberMark := ""
	if hasMember {
		memberMark = "m"
	}
	if err := tl.open(dispute.Case{Issue: issue, MemberID: memberMark}, pick(r, openings[issue], 0), p.now); err != nil {
		return err
	}
	w := p.walk
	k := w.keyOf(tl.c)
	if !w.feasible(k, target, moves) {
		return fmt.Errorf("status %s not reachable in %d moves", dispute.Statuses[target], moves)
	}
	for step := 1; step <= moves; step++ {
		if step == recordBefore {
			if err := tl.record(dispute.EventDisputeOpened, pick(r, disputeOpened, 0), g.pause(tl.last())); err != nil {
				return err
			}
		}
		left := moves - step
		var sum float64
		st := statusIndex(tl.c.Status)
		for m := move(0); m < numMoves; m++ {
			if nk := w.next[k][m]; nk >= 0 && w.feasible(nk, target, left) {
				sum += moveWeights[st][m]
			}
		}
		x := r.Float64() * sum
		chosen := move(numMoves)
		for m := move(0); m < numMoves; m++ {
			if nk := w.next[k][m]; nk >= 0 && w.feasible(nk, target, left) {
				chosen = m
				if x -= moveWeights[st][m]; x < 0 {
					break
				}
			}
		}
		if chosen == numMoves {
			return errors.New("no move left")
		}
		var err error
		if chosen == mvDeadline {
			err = tl.expire(tl.c.DueDate.Add(time.Duration(5000+r.IntN(55_000)) * time.Millisecond))
		} else {
			in := dispute.Input{Message: messageFor(r, chosen, tl.c.Status)}
			if chosen == mvMerchantAccept && hasMember {
				in.TerminateMembership = issue == dispute.IssueForgotToCancel && r.IntN(5) > 0 || r.IntN(5) == 0
			}
			err = tl.apply(moveActor[chosen], moveAction[chosen], in, g.pause(tl.last()))
		}
		if err != nil {
			return err
		}
		k = w.next[k][chosen]
	}
	if outcomeRecord {
		ev, msgs := dispute.EventDisputeMerchantWon, disputeMerchantWon
		if tl.c.Status == dispute.StatusCustomerWon {
			ev, msgs = dispute.EventDisputeCustomerWon, disputeCustomerWon
		}
		after := time.Duration(3*day) + time.Duration(r.Int64N(int64(40*day)))
		if err := tl.record(ev, pick(r, msgs, 0), tl.last().Add(after)); err != nil {
			return err
		}
	}
	if tl.c.Status != dispute.Statuses[target] || tl.c.EventCount != events {
		return fmt.Errorf("walk ended in %s after %d events, want %s after %d",
			tl.c.Status, tl.c.EventCount, dispute.Statuses[target], events)
	}

	// Place the case in time.
	duration := tl.last().Sub(tl.c.CreatedAt)
	var created time.Time
	switch {
	case tl.c.DueDate != nil: // waiting: the deadline is still ahead
		room := tl.c.DueDate.Sub(tl.last())
		tail := time.Duration(float64(room) * (0.03 + 0.94*r.Float64()))
		created = p.now.Add(-tail - duration)
	case tl.c.Status.Open(): // under review, for a few hours to ten days
		tail := 30*time.Minute + time.Duration(r.Int64N(int64(10*day)))
		created = p.now.Add(-tail - duration)
	default:
		// Stratified over the history, denser recently: the density grows linearly to
		// twice its start, so the quantile u is at x = sqrt(1+3u)-1 of the span.
		u := (float64(i) + r.Float64()) / float64(p.o.Cases)
		x := math.Sqrt(1+3*u) - 1
		created = p.now.Add(-historySpan + time.Duration(x*float64(historySpan)))
		if latest := p.now.Add(-duration - time.Hour); created.After(latest) {
			created = latest.Add(-time.Duration(r.Int64N(int64(5 * day))))
		}
	}
	created = ms(created)
	tl.shift(created.Sub(tl.c.CreatedAt))
	if tl.c.DueDate != nil && !tl.c.DueDate.After(p.now) {
		return fmt.Errorf("open case in %s placed with its deadline passed", tl.c.Status)
	}

	// The payment, its customer and company, and the membership it belongs to.
	var paidBefore time.Duration
	switch issue {
	case dispute.IssueForgotToCancel:
		paidBefore = 6*time.Hour + time.Duration(r.Int64N(int64(6*day)))
	case dispute.IssueItemNotReceived:
		paidBefore = 7*day + time.Duration(r.Int64N(int64(33*day)))
	case dispute.IssueUnauthorizedTransaction:
		paidBefore = day + time.Duration(r.Int64N(int64(29*day)))
	default:
		paidBefore = 3*day + time.Duration(r.Int64N(int64(42*day)))
	}
	paid := ms(created.Add(-paidBefore))
	u := g.customerBefore(paid.Add(-2 * day))
	userID, userCreated := p.customerIDs[u], p.customerCreatedMax(u)
	c := int(g.zipf.Uint64())
	companyID := p.companyIDs[c]
	cur := currencies[p.companyCur[c]]
	if r.IntN(10) == 0 {
		cur = currencies[0]
	}
	total, subtotal := price(r, cur, hasMember)
	memberID := ""
	if hasMember {
		lo := userCreated.Add(time.Hour)
		if t := paid.Add(-3 * year); t.After(lo) {
			lo = t
		}
		started := lo
		if hi := paid.Add(-day); hi.After(lo) {
			started = lo.Add(time.Duration(r.Int64N(int64(hi.Sub(lo)))))
		}
		started = ms(started)
		m := db.Membership{ID: idAt(ids.Membership, started, g.ent), UserID: userID, CompanyID: companyID,
			Active: true, CreatedAt: started}
		if !tl.canceledAt.IsZero() {
			m.Active, m.CanceledAt = false, ref(tl.canceledAt)
		}
		memberID = m.ID
		b.Memberships = append(b.Memberships, m)
		// Earlier monthly charges of the same membership.
		for n := r.IntN(4); n > 0; n-- {
			t := ms(paid.Add(-time.Duration(n) * 30 * day))
			if t.After(started) {
				b.Payments = append(b.Payments, db.Payment{ID: idAt(ids.Payment, t, g.ent), UserID: userID, CompanyID: companyID,
					MembershipID: memberID, Currency: cur.code, Total: total, Subtotal: subtotal, PaidAt: ref(t), CreatedAt: t})
			}
		}
	}
	pay := db.Payment{ID: idAt(ids.Payment, paid, g.ent), UserID: userID, CompanyID: companyID, MembershipID: memberID,
		Currency: cur.code, Total: total, Subtotal: subtotal, PaidAt: ref(paid), CreatedAt: paid}
	if !tl.refundedAt.IsZero() {
		pay.Refund(tl.refundedAt)
	}
	b.Payments = append(b.Payments, pay)
	// Now and then another purchase by the same customer, without a case.
	if r.IntN(5) == 0 {
		oc := int(g.zipf.Uint64())
		ocur := currencies[p.companyCur[oc]]
		lo := userCreated.Add(time.Hour)
		t := ms(lo.Add(time.Duration(r.Int64N(int64(p.now.Sub(lo) - time.Hour)))))
		tot, sub := price(r, ocur, false)
		b.Payments = append(b.Payments, db.Payment{ID: idAt(ids.Payment, t, g.ent), UserID: userID, CompanyID: p.companyIDs[oc],
			Currency: ocur.code, Total: tot, Subtotal: sub, PaidAt: ref(t), CreatedAt: t})
	}

	tl.c.ID = idAt(ids.Resolution, created, g.ent)
	tl.c.UserID, tl.c.CompanyID, tl.c.PaymentID, tl.c.MemberID = userID, companyID, pay.ID, memberID
	b.Cases = append(b.Cases, tl.c)
	for _, ev := range tl.events {
		ev.ID, ev.ResolutionID = idAt(ids.Event, ev.CreatedAt, g.ent), tl.c.ID
		b.Events = append(b.Events, ev)
	}
	return nil
}

// pause returns when the next event after t happens: before the deadline while the
// case waits for an answer, hours to days later otherwise.
func (g *caseGen) pause(t time.Time) time.Time {
	r := g.r
	if due := g.tl.c.DueDate; due != nil {
		room := due.Sub(t)
		d := time.Duration(float64(room) * (0.02 + 0.73*r.Float64()))
		if d < time.Minute {
			d = room / 2
		}
		if d <= 0 {
			d = time.Millisecond
		}
		return t.Add(d)
	}
	return t.Add(2*time.Hour + time.Duration(r.Int64N(int64(6*day))))
}

// customerBefore picks a customer who signed up before t.
func (g *caseGen) customerBefore(t time.Time) int {
	p := g.p
	n := int(t.Sub(p.userStart) / p.userStep)
	n = min(max(n, 1), len(p.customerIDs))
	return g.r.IntN(n)
}

// customerCreatedMax is an upper bound of when customer j signed up.
func (p *plan) customerCreatedMax(j int) time.Time {
	return p.userStart.Add(p.userStep * time.Duration(j+1))
}

// price returns a plausible total and subtotal (nil one time in four) in cur.
func price(r *rand.Rand, cur currency, subscription bool) (int64, *int64) {
	lo, hi := cur.min, cur.max
	if subscription {
		hi = lo * 12
	}
	v := math.Exp(math.Log(lo) + r.Float64()*(math.Log(hi)-math.Log(lo)))
	total := int64(v) / cur.step * cur.step
	if total < cur.step {
		total = cur.step
	}
	if cur.step >= 50 && r.IntN(2) == 0 {
		total-- // 19.99
	}
	if r.IntN(4) == 0 {
		return total, nil
	}
	sub := total * 100 / (100 + cur.taxPct)
	return total, &sub
}

// pickWeighted returns an index in [0, n) with probability proportional to weight(i).
func pickWeighted(r *rand.Rand, n int, weight func(int) float64) int {
	var sum float64
	for i := 0; i < n; i++ {
		sum += weight(i)
	}
	x := r.Float64() * sum
	for i := 0; i < n; i++ {
		if x -= weight(i); x < 0 {
			return i
		}
	}
	return n - 1
}

// slug turns a title into a URL slug.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(s) {
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b.WriteRune(c)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// slugDot is slug for one name, keeping only ASCII letters.
func slugDot(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		switch c {
		case 'é', 'è':
			c = 'e'
		case 'á':
			c = 'a'
		case 'ü':
			c = 'u'
		}
		if c >= 'a' && c <= 'z' {
			b.WriteRune(c)
		}
	}
	return b.String()
}
