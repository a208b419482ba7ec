import StrataConfig

/// Centrifugo's permission rules for client commands, as pure functions of the namespace options.
enum Permissions {
    static func canSubscribe(_ o: ChannelOptions, user: String, insecure: Bool) -> Bool {
        if o.allowSubscribeForClient && (!user.isEmpty || o.allowSubscribeForAnonymous) { return true }
        return insecure
    }

    static func canPublish(_ o: ChannelOptions, user: String, subscribed: Bool, insecure: Bool) -> Bool {
        if insecure { return true }
        let anonymousOK = !user.isEmpty || o.allowPublishForAnonymous
        if o.allowPublishForClient && anonymousOK { return true }
        return o.allowPublishForSubscriber && subscribed && anonymousOK
    }

    static func canReadHistory(_ o: ChannelOptions, user: String, subscribed: Bool, insecure: Bool) -> Bool {
        if insecure { return true }
        let anonymousOK = !user.isEmpty || o.allowHistoryForAnonymous
        if o.allowHistoryForClient && anonymousOK { return true }
        return o.allowHistoryForSubscriber && subscribed && anonymousOK
    }

    static func canReadPresence(_ o: ChannelOptions, user: String, subscribed: Bool, insecure: Bool) -> Bool {
        if insecure { return true }
        let anonymousOK = !user.isEmpty || o.allowPresenceForAnonymous
        if o.allowPresenceForClient && anonymousOK { return true }
        return o.allowPresenceForSubscriber && subscribed && anonymousOK
    }
}
