from django.urls import path

from storage_kit.api import views

app_name = "storage_kit"
urlpatterns = [
    path("workspaces/", views.WorkspaceListCreate.as_view(), name="workspaces"),
    path("workspaces/<id:pk>/", views.WorkspaceDetail.as_view(), name="workspace"),
    path("workspaces/<id:pk>/teardown/", views.WorkspaceTeardown.as_view(), name="workspace-teardown"),
    path("forks/", views.ForkListCreate.as_view(), name="forks"),
    path("forks/<id:pk>/", views.ForkDetail.as_view(), name="fork"),
    path("forks/<id:pk>/teardown/", views.ForkTeardown.as_view(), name="fork-teardown"),
    path("checkpoints/", views.CheckpointListCreate.as_view(), name="checkpoints"),
    path("checkpoints/<id:pk>/", views.CheckpointDetail.as_view(), name="checkpoint"),
    path("checkpoints/<id:pk>/restore/", views.CheckpointRestore.as_view(), name="checkpoint-restore"),
    path("datasets/", views.DatasetList.as_view(), name="datasets"),
    path("datasets/<id:pk>/", views.DatasetDetail.as_view(), name="dataset"),
    path("coordinations/", views.CoordinationListCreate.as_view(), name="coordinations"),
    path("coordinations/<id:pk>/", views.CoordinationDetail.as_view(), name="coordination"),
    path(
        "coordinations/<id:pk>/teardown/",
        views.CoordinationTeardown.as_view(),
        name="coordination-teardown",
    ),
    path("deliveries/", views.DeliveryList.as_view(), name="deliveries"),
    path("deliveries/<id:pk>/", views.DeliveryDetail.as_view(), name="delivery"),
]
