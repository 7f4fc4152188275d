from . import portal, public_pool, referral, simulation
