"""``/points_pool/simulation/<id>/csv``: the day table of a simulation run
from the pool form (issue 13), as CSV (``SimulationResult.to_csv_rows()``).

Only pool managers, and only for a simulation they created themselves;
anything else (no such wizard, not run yet, someone else's) is a 404.
"""

from werkzeug.exceptions import NotFound

from odoo import http
from odoo.http import content_disposition, request

from ..models.points_pool import is_manager


class PointsPoolSimulation(http.Controller):
    @http.route(
        "/points_pool/simulation/<int:simulation_id>/csv",
        type="http",
        auth="user",
        methods=["GET"],
    )
    def simulation_csv(self, simulation_id, **kwargs):
        user = request.env.user
        if not is_manager(request.env):
            raise NotFound()
        simulation = (
            request.env["points.pool.simulation"].browse(simulation_id).exists()
        )
        if not simulation or simulation.create_uid != user or not simulation.csv_data:
            raise NotFound()
        filename = f"simulation-{simulation.pool_id.id}-{simulation.preset}.csv"
        return request.make_response(
            simulation.csv_data.encode(),
            headers=[
                ("Content-Type", "text/csv; charset=utf-8"),
                ("Content-Disposition", content_disposition(filename)),
                ("Cache-Control", "no-store"),
            ],
        )
