from . import portal, public_pool, referral, referral_cookie, simulation
