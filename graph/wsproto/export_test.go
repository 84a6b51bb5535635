package wsproto

// JoinLeave joins g and, when counted, leaves it again (for the race test).
func JoinLeave(g *ConnGroup) {
	if g.join() {
		g.leave()
	}
}
