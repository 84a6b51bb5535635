package model

import "resolutioncenter/db"

// ResolutionConnection is a page of cases. Scope and Filter are what the page was
// asked for, so that totalCount, resolved only when selected, counts every page.
type ResolutionConnection struct {
	Edges    []*ResolutionEdge `json:"edges"`
	Nodes    []*Resolution     `json:"nodes"`
	PageInfo *PageInfo         `json:"pageInfo"`
	Scope    db.Scope          `json:"-"`
	Filter   db.Filter         `json:"-"`
}

// ResolutionEventConnection is a page of a case's timeline. Case is the case as the
// viewer sees it, so that totalCount counts the events of every page in its role.
type ResolutionEventConnection struct {
	Edges    []*ResolutionEventEdge `json:"edges"`
	Nodes    []*Event               `json:"nodes"`
	PageInfo *PageInfo              `json:"pageInfo"`
	Case     *Resolution            `json:"-"`
}
