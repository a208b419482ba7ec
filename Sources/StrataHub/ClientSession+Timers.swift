import StrataCore
import StrataProtocol

extension ClientSession {
    /// Closes connections that never authenticate (3502).
    public func startStaleTimer() {
        let delay = node.config.client.staleCloseDelayMillis
        guard delay > 0 else { return }
        Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(delay))
            guard let self else { return }
            if self.state.withLock({ $0.status == .connecting }) { self.disconnect(.stale) }
        }
    }

    /// Server pings (the first at a random moment in [interval/2, interval)), pong deadlines and
    /// connection expiry (client-protocol.md §6–7).
    func startTimers() {
        let interval = node.config.client.pingIntervalMillis
        let pongTimeout = node.config.client.pongTimeoutMillis
        guard interval > 0 else { return }
        Task { [weak self] in
            var delay = Int64.random(in: interval / 2..<max(interval / 2 + 1, interval))
            while true {
                try? await Task.sleep(for: .milliseconds(delay))
                guard let self, !self.queue.isClosed else { return }
                if self.connectionExpired() { return }
                self.state.withLock { if pongTimeout > 0 { $0.pingPending = true } }
                self.send(JSONReplyEncoder.ping)
                if pongTimeout > 0 {
                    try? await Task.sleep(for: .milliseconds(pongTimeout))
                    if self.state.withLock({ $0.pingPending && $0.status == .connected }) {
                        self.disconnect(.noPong)
                        return
                    }
                    delay = max(1, interval - pongTimeout)
                } else {
                    delay = interval
                }
            }
        }
    }

    /// Without a refresh by `expire_at + expired_close_delay`, the connection ends with 3005.
    private func connectionExpired() -> Bool {
        let now = node.clock.nowMillis()
        let grace = max(0, node.config.client.expiredCloseDelayMillis)
        let expired = state.withLock { s in s.expireAt.map { $0 * 1000 + grace <= now } ?? false }
        if expired { disconnect(.expired) }
        return expired
    }
}
