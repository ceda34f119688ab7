/** The UDP port peers look for STUN on at their bootstrap hosts (`ripple relay` answers there). */
export const DEFAULT_STUN_PORT = 3478
