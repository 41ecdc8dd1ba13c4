"""The service plus a bare echo route, mounted only for the quote benchmark's baseline."""

from fastapi import Request, Response

from app.main import create_app as create_service


def create_app():
    app = create_service()

    @app.post("/bench/echo", include_in_schema=False)
    async def echo(request: Request) -> Response:
        return Response(await request.body(), media_type="application/json")

    return app
