/** How Ripple's hApp appears on a Holochain conductor's API, for both the server and the client side. */

/** The app id (the hApp's name in happ.yaml, which Holochain uses when none is given at install). */
export const RIPPLE_APP_ID = 'ripple'

/** The Origin the host's holochain backend sends; the embedded admin interface allows it by default. */
export const RIPPLE_HOST_ORIGIN = 'ripple-host'
