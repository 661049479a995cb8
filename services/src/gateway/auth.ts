/** The gateway's token verification: the kit's (src/kit/jwt.ts), which the services use too. */
export { AuthError, JwtVerifier } from '../kit/jwt';
export type { AuthFailure, JwtSettings } from '../kit/jwt';
